package org.rnn4j.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;

/**
 * Where a standard-cell LSTM training iteration ({@link LstmTrainingBench}'s: forward, backward, SGD) spends its time,
 * per backend operation: the network runs on a proxy of the backend that times every call (and so adds a little
 * to each), GEMMs told apart by shape.
 *
 * <pre>
 *   OpProfile BACKEND PRECISION SIZE BATCH STEPS ITERATIONS
 * </pre>
 *
 * Runs 10 untimed iterations, then {@code ITERATIONS} timed ones, and prints the total per iteration and one line per
 * operation: {@code gemm(64x1024x256 tB)  12.45 ms/iter  49 calls/iter}. The times of an asynchronous backend are
 * those of issuing the calls; every iteration ends with {@link Backend#synchronize()}, counted as its own line.
 */
public final class OpProfile {

    private OpProfile() {
    }

    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: OpProfile BACKEND PRECISION SIZE BATCH STEPS ITERATIONS");
            System.exit(2);
        }
        int size = Timing.positive("OpProfile", "SIZE", args[2]);
        int batch = Timing.positive("OpProfile", "BATCH", args[3]);
        int steps = Timing.positive("OpProfile", "STEPS", args[4]);
        int iterations = Timing.positive("OpProfile", "ITERATIONS", args[5]);
        Map<String, long[]> times = new TreeMap<>();
        Backend real = Timing.backend("OpProfile", args[0], Timing.precision("OpProfile", args[1]));
        Backend timed = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, m, a) -> call(real, m, a, times));
        // Exactly the benchmark's network and iteration, on the timing proxy.
        LstmTrainingBench bench = new LstmTrainingBench();
        bench.size = size;
        bench.batchSize = batch;
        bench.steps = steps;
        bench.setUp(timed);
        try {
            for (int i = 0; i < 10; i++) {
                bench.trainIteration();
            }
            times.clear();
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                bench.trainIteration();
            }
            double total = (System.nanoTime() - t0) / 1e6 / iterations;
            System.out.printf(Locale.ROOT, "%s %s size=%d batch=%d steps=%d: %.2f ms/iter%n", args[0], args[1], size,
                    batch, steps, total);
            times.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-32s %9.2f ms/iter %6d calls/iter%n", k,
                    v[0] / 1e6 / iterations, v[1] / iterations));
        } finally {
            bench.tearDown();
        }
    }

    private static Object call(Backend real, Method m, Object[] a, Map<String, long[]> times) throws Throwable {
        long t0 = System.nanoTime();
        try {
            return m.invoke(real, a);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        } finally {
            long dt = System.nanoTime() - t0;
            String key = m.getName();
            if (key.equals("gemm")) {
                key += "(" + a[2] + "x" + a[3] + "x" + a[4] + ((Boolean) a[0] ? " tA" : "") + ((Boolean) a[1] ? " tB" : "")
                        + ")";
            }
            long[] v = times.computeIfAbsent(key, k -> new long[2]);
            v[0] += dt;
            v[1]++;
        }
    }
}
