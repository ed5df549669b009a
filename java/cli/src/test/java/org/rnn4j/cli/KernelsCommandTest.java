package org.rnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.rnn4j.cuda.KernelHarness;

/**
 * {@code rnn4j kernels}: bad options are one line and exit 2 anywhere; without a usable GPU the command exits 2 with
 * the probe's reason (its validation half runs as the {@code gpu} test {@code KernelHarnessTest}).
 */
class KernelsCommandTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private static void oneLineUsage(Run r, String mentions) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r.err());
        assertTrue(r.err().contains(mentions), r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }

    @Test
    void badOptionsAreOneLineAndExit2() {
        oneLineUsage(run("kernels", "--family", "gemm,nope"), "--family: unknown family 'nope'");
        oneLineUsage(run("kernels", "--precision", "float16"), "--precision must be float32, float64 or both");
        oneLineUsage(run("kernels", "--bench", "--nonsense"), "--nonsense");
    }

    @Test
    void withoutAGpuItExits2WithTheReason() {
        String reason = KernelHarness.unavailableReason();
        Assumptions.assumeTrue(reason != null, "a usable CUDA device is present: this test is for machines without");
        for (String[] args : new String[][] {{"kernels"}, {"kernels", "--validate", "--bench"},
                {"kernels", "--bench", "--quick", "--family", "gemm", "--precision", "float32"}}) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args));
            assertEquals("rnn4j: kernels: " + reason, r.err().strip());
            assertTrue(r.err().contains("CUDA is not usable here: "), r.err());
            assertTrue(r.out().isEmpty(), r.out());
        }
    }

    @Test
    void helpListsTheOptions() {
        Run h = run("kernels", "--help");
        assertEquals(0, h.code());
        for (String option : new String[] {"--validate", "--bench", "--precision", "--family", "--quick"}) {
            assertTrue(h.out().contains(option), option);
        }
    }
}
