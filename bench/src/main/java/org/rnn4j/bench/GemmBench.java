package org.rnn4j.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.rng.NumpyRandom;

/**
 * One {@link Backend#gemm} call, {@code C = A * op(B)} with {@code alpha = 1, beta = 0}, followed by
 * {@link Backend#synchronize()}, on one of the {@link GemmShape shapes}: squares {@code 128 ... 1024}, and
 * {@code lstm}, the LSTM step's shape {@code m = 64, n = 1024, k = 256} with {@code B} transposed.
 *
 * <p>{@code gemmPath}: {@code default} is the backend's own choice (cuBLAS on CUDA where it loads); {@code builtin}
 * is rnn4j's built-in CUDA GEMM kernel, and applies to the {@code cuda} backend only: on any other backend its setup
 * fails with a message saying so, and JMH skips that combination ({@code bench/run.sh} passes {@code builtin} only
 * where CUDA is usable).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GemmBench {

    @Param({"128", "256", "512", "1024", "lstm"})
    public String shape;

    @Param({"float32", "float64"})
    public String precision;

    /** A usable backend's name; {@code bench/run.sh} passes every usable one. */
    @Param({"cpu"})
    public String backend;

    @Param({"default", "builtin"})
    public String gemmPath;

    private Backend be;
    private GemmShape s;
    private Buffer a;
    private Buffer b;
    private Buffer c;

    @Setup(Level.Trial)
    public void setUp() {
        s = GemmShape.parse(shape);
        be = BenchBackends.create(backend, Precision.parse(precision), gemmPath);
        NumpyRandom rng = new NumpyRandom(0);
        a = be.allocate(s.m() * s.k());
        b = be.allocate(s.k() * s.n());
        c = be.allocate(s.m() * s.n());
        be.upload(GemmShape.uniform(rng, s.m() * s.k()), a);
        be.upload(GemmShape.uniform(rng, s.k() * s.n()), b);
        be.synchronize();
    }

    @Benchmark
    public void gemm() {
        s.run(be, a, b, c);
        be.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (be != null) {
            be.close();
        }
    }
}
