package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seeds' short runs load nothing they do not use: not OpenBLAS (their products are all below the fast GEMM's
 * threshold, and the RNN's accuracy pass is too short to be worth its load), not Jackson unless a summary is written;
 * a long run of large products does load OpenBLAS. Checked on the classes a child JVM loads.
 */
class StartupLoadTest {

    private static String loadedClasses(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("RNN4J_CPU_GEMM");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), out.lines().filter(l -> !l.contains("[class,load]")).toList().toString());
        return out;
    }

    @Test
    void theSeedRunsLoadNeitherOpenBlasNorJackson(@TempDir Path tmp) throws Exception {
        for (String precision : new String[] {"float32", "float64"}) {
            String lstm = loadedClasses("train", "lstm", "--backend", "cpu", "--precision", precision, "--iterations",
                    "3", "--quiet");
            assertTrue(lstm.contains("org.rnn4j.backend.cpu.CpuGemm "), "the log should list the classes loaded");
            assertFalse(lstm.contains("org.bytedeco"), "train lstm loaded OpenBLAS/JavaCPP");
            assertFalse(lstm.contains("com.fasterxml.jackson.databind.ObjectMapper "), "train lstm loaded Jackson");
        }
        String rnn = loadedClasses("train", "rnn", "--backend", "cpu", "--iterations", "20", "--quiet");
        assertFalse(rnn.contains("org.bytedeco"), "train rnn loaded OpenBLAS/JavaCPP");
        assertFalse(rnn.contains("com.fasterxml.jackson.databind.ObjectMapper "), "train rnn loaded Jackson");

        // a run whose large products add up to more than the load is worth: OpenBLAS is loaded part way. The
        // products must be wide enough to pay for their copies too: 64 steps make the input and weight-gradient
        // GEMMs (64 x 2048 x 512, 2048 x 512 x 64) do about 55 multiply-adds per copied element.
        String large = loadedClasses("train", "lstm", "--backend", "cpu", "--hidden", "512", "--input-dim", "512",
                "--targets=" + String.join(",", java.util.Collections.nCopies(64, "0.1")), "--iterations", "60",
                "--quiet");
        assertTrue(large.contains("org.bytedeco.openblas"), "a long run of large products should load OpenBLAS");

        // with a summary, Jackson is what writes it
        String summary = loadedClasses("train", "rnn", "--backend", "cpu", "--iterations", "20", "--quiet",
                "--summary", tmp.resolve("s.json").toString());
        assertTrue(summary.contains("com.fasterxml.jackson.databind.ObjectMapper "), "the summary needs Jackson");
    }

    @Test
    void aBadGemmRouteIsBadInputInOneLine() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "train", "lstm", "--backend", "cpu",
                "--iterations", "1", "--quiet");
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("RNN4J_CPU_GEMM", "openblas");
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not finish");
        assertEquals(2, p.exitValue(), err);
        assertEquals(List.of("rnn4j: RNN4J_CPU_GEMM must be auto, java or fast, not 'openblas'"), err.lines().toList());
    }
}
