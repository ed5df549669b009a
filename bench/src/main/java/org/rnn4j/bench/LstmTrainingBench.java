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
import org.rnn4j.backend.Precision;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.rng.NumpyRandom;

/**
 * One training iteration of the standard-cell LSTM layer ({@link LstmLayer}, PyTorch's {@code nn.LSTM} cell):
 * forward over {@code steps} steps of {@code batchSize} sequences with input size = hidden size = {@code size}, the
 * backward from a fixed upstream gradient {@code dL/dh} (the loss {@code sum(h * R)}, R random), and an SGD step; ends
 * with {@link Backend#synchronize()}, so a GPU backend is timed until its work has finished. The same work as a
 * PyTorch training step of {@code nn.LSTM(size, size)} on a {@code (steps, batchSize, size)} input
 * ({@code bench/scripts/torch_vs_rnn4j.py}).
 *
 * <p>The parameter names differ from {@link RnnTrainingBench}'s ({@code hidden}, {@code batch}) on purpose: JMH's
 * {@code -p} applies to every benchmark with that name, and the two grids differ.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class LstmTrainingBench {

    /** Input size X = hidden size H. */
    @Param({"128", "512", "1024"})
    public int size;

    @Param({"1", "32", "256"})
    public int batchSize;

    @Param({"16", "100"})
    public int steps;

    /** A usable backend's name; {@code bench/run.sh} passes every usable one. */
    @Param({"cpu"})
    public String backend;

    @Param({"float32"})
    public String precision;

    private Backend be;
    private LstmLayer net;
    private LstmLayer.Workspace ws;
    private double[] initial;

    @Setup(Level.Trial)
    public void setUp() {
        setUp(BenchBackends.create(backend, Precision.parse(precision), BenchBackends.PATH_DEFAULT));
    }

    /**
     * The same setup on a given backend, which {@link #tearDown} closes ({@link OpProfile}'s timing proxy).
     *
     * @param backend the backend to train on
     */
    void setUp(Backend backend) {
        be = backend;
        net = new LstmLayer(be, size, size);
        NumpyRandom rng = new NumpyRandom(0);
        net.initLikePyTorch(rng);
        initial = net.parameters();
        ws = net.workspace(steps, batchSize);
        double[] x = new double[steps * batchSize * size];
        rng.randomSample(x);
        ws.setInputs(x);
        double[] r = new double[steps * batchSize * size];
        rng.randomSample(r);
        ws.setOutputGrads(r);
    }

    @Setup(Level.Iteration)
    public void resetWeights() {
        net.setParameters(initial);
        be.synchronize();
    }

    @Benchmark
    public void trainIteration() {
        net.forward(ws);
        net.backward(ws);
        net.sgdStep(1e-3);
        be.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ws.close();
        net.close();
        be.close();
    }
}
