package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train lstm --graphs}: the same trace, byte for byte, as without, for both cells; the summary says so. */
class TrainLstmGraphsTest {

    @TempDir
    Path dir;

    private int run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, String.join(" ", args) + ": " + err);
        return code;
    }

    @Test
    void recordedIterationsGiveTheSameTrace() throws Exception {
        for (String cell : new String[] {"seed", "standard"}) {
            for (String precision : new String[] {"float64", "float32"}) {
                Path plain = dir.resolve(cell + precision + "-plain.jsonl");
                Path graphs = dir.resolve(cell + precision + "-graphs.jsonl");
                Path summary = dir.resolve(cell + precision + "-summary.json");
                String[] common = {"train", "lstm", "--cell", cell, "--precision", precision, "--backend", "cpu",
                        "--iterations", "60", "--hidden", "12", "--input-dim", "7", "--quiet"};
                run(concat(common, "--trace", plain.toString()));
                run(concat(common, "--graphs", "--trace", graphs.toString(), "--summary", summary.toString()));
                String want = Files.readString(plain);
                assertEquals(60, want.lines().count());
                assertEquals(want, Files.readString(graphs), cell + " " + precision);
                assertTrue(new ObjectMapper().readTree(summary.toFile()).get("graphs").asBoolean());
            }
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
