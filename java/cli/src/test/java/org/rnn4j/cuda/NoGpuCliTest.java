package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.cli.Main;

/**
 * What a user sees on a machine where CUDA cannot run (CI, laptops): {@code auto} falls back to the CPU and says why in
 * one line, {@code --backend cuda} and {@code --check} fail with one line and exit code 2, and {@code devices} explains.
 * These tests need the CUDA module on the class path, so they live here; on a GPU machine they are skipped (the GPU
 * tests cover it there).
 */
class NoGpuCliTest {

    record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private String reason;

    @BeforeEach
    void onlyWithoutCuda() {
        CudaProbe.Result probe = CudaProbe.get();
        assumeFalse(probe.usable(), "CUDA is usable here (" + probe.reason() + "); this test covers machines without");
        reason = probe.reason();
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyInOneLine() {
        Run r = run("train", "lstm", "--iterations", "5", "--quiet");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertEquals("rnn4j: using the CPU backend: no usable GPU backend (cuda: " + reason + ")",
                r.errLines().get(0));
    }

    @Test
    void backendCudaFailsWithOneLineAndExitTwo() {
        for (String net : new String[] {"rnn", "lstm"}) {
            Run r = run("train", net, "--backend", "cuda", "--iterations", "5");
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertEquals("rnn4j: --backend: backend cuda cannot run here: " + reason, r.errLines().get(0));
            assertEquals("", r.out());
        }
    }

    @Test
    void checkNeedsCuda() {
        Run r = run("train", "lstm", "--check");
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("rnn4j: --check needs the CUDA backend: backend cuda cannot run here: "),
                r.err());
    }

    @Test
    void devicesExplainsWhyCudaIsNotUsable() {
        Run r = run("devices");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cpu   usable"), r.out());
        assertTrue(r.out().contains("cuda  not usable: " + reason), r.out());
        assertTrue(r.out().contains("auto  picks cpu"), r.out());
    }

    @Test
    void helpNamesTheCudaBackend() {
        Run r = run("train", "rnn", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("cpu or cuda"), r.out());
    }
}
