package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;

/**
 * The harness behind {@code rnn4j kernels}, run without a GPU: with the CPU backend as the candidate every case must
 * validate and every benchmark line print; with a candidate whose sigmoid is wrong in one element, exactly the
 * sigmoid cases that reach that element must fail, with their first mismatches printed.
 */
class KernelHarnessCpuTest {

    private static final List<GemmChoice.Kind> PATHS = List.of(GemmChoice.Kind.EXACT);

    @Test
    void theCpuAgainstItselfValidatesAndBenchmarks() {
        StringWriter text = new StringWriter();
        KernelHarness.Outcome o = KernelHarness.runWith(KernelHarness.Options.all(true, true, true),
                new PrintWriter(text, true), (p, kind) -> new CpuBackendProvider().create(p), PATHS,
                new DeviceLimits("test", 9, 0, 132, 1_980_000, 2_619_000, 5120), 8);
        String s = text.toString();
        assertEquals(0, o.failed(), s);
        // per precision: 7 + 4 + 4 elementwise, 5 * 4 reductions, 24 GEMM (one path), 3 Adam
        assertEquals(2 * (15 + 20 + 24 + 3), o.cases(), s);
        assertTrue(s.contains("validation: " + o.cases() + " cases, 0 failed"), s);
        assertEquals(2 * (3 + 5 + 1 + 1), o.benchmarks(), s);
        assertTrue(s.contains("peak bandwidth 3352.3 GB/s"), s);
        assertTrue(s.lines().filter(l -> l.startsWith("bench ")).allMatch(l -> l.contains("% of ") || l.contains("%)")),
                s);
    }

    /** The CPU backend, but sigmoidForward's output element 3 is 0.01 too large. */
    private static Backend brokenSigmoid(Precision p) {
        Backend cpu = new CpuBackendProvider().create(p);
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    Object r;
                    try {
                        r = method.invoke(cpu, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("sigmoidForward")) {
                        Buffer y = (Buffer) args[1];
                        if (y.length() > 3) {
                            double[] v = cpu.download(y);
                            v[3] += 0.01;
                            cpu.upload(v, y);
                        }
                    }
                    return r;
                });
    }

    @Test
    void aWrongElementIsReportedWithItsValues() {
        StringWriter text = new StringWriter();
        KernelHarness.Outcome o = KernelHarness.runWith(new KernelHarness.Options(true, false,
                        List.of(Precision.FLOAT32, Precision.FLOAT64), Set.of("elementwise"), true),
                new PrintWriter(text, true), (p, kind) -> brokenSigmoid(p), PATHS, null, 0);
        String s = text.toString();
        // sigmoid_forward at n = 7, 255, 256, 257, 65537, 1000003 in both precisions; n = 1 has no element 3
        assertEquals(12, o.failed(), s);
        assertTrue(s.contains("MISMATCH: 1 of 7 values; first 1:"), s);
        assertTrue(s.contains("output 1 [3]: got "), s);
        assertTrue(s.contains("validation: " + o.cases() + " cases, 12 failed"), s);
    }
}
