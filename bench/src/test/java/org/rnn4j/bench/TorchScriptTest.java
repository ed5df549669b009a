package org.rnn4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code bench/scripts/torch_vs_rnn4j.py}'s refusal of the reference BLAS: its {@code --self-test} classifies recorded
 * {@code /proc/self/maps} lines (reference libblas refused, alone or next to OpenBLAS's LAPACK; OpenBLAS, Debian's
 * OpenBLAS libblas.so.3 and a statically linked MKL accepted). Needs python3 only, not PyTorch; skips without it.
 */
class TorchScriptTest {

    @Test
    void theScriptRefusesTheReferenceBlas() throws Exception {
        Path script = Path.of("..", "bench", "scripts", "torch_vs_rnn4j.py").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(script), script + " missing");
        Process p;
        try {
            p = new ProcessBuilder("python3", script.toString(), "--self-test").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            assumeTrue(false, "python3 is not installed: " + e.getMessage());
            return;
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the self-test did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("checks passed"), out);
    }
}
