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
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.rng.NumpyRandom;
import org.rnn4j.train.RnnTrainer;

/**
 * One training iteration of the binary-addition RNN: {@code batch} problems {@code a + b} drawn from numpy's legacy
 * generator (as the seed draws its one), loaded with {@code setProblems}, then forward, backward through time and an
 * SGD step with learning rate {@code 0.1 / batch} (the gradient is summed over the batch, so this averages it). The
 * iteration ends with {@link Backend#synchronize()}, so a GPU backend is timed until its work has finished.
 *
 * <p>The weights are reset to the seed's initialisation before every JMH iteration, so every measurement starts from
 * the same state whatever ran before it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class RnnTrainingBench {

    /** The seed's learning rate; a batch of {@code B} uses {@code LEARNING_RATE / B}. */
    public static final double LEARNING_RATE = 0.1;

    @Param({"16", "128", "512"})
    public int hidden;

    @Param({"1", "64", "1024"})
    public int batch;

    /** A usable backend's name; {@code bench/run.sh} passes every usable one. */
    @Param({"cpu"})
    public String backend;

    @Param({"float32"})
    public String precision;

    /**
     * Whether the training step is recorded once and replayed ({@code Backend.record}: a CUDA graph on the GPU; on
     * the CPU the same work). {@code bench/run.sh} passes {@code false,true} where CUDA is usable.
     */
    @Param({"false"})
    public boolean graphs;

    private Backend.Replay replay;

    private Backend be;
    private BinaryAdditionRnn net;
    private BinaryAdditionRnn.Workspace ws;
    private NumpyRandom rng;
    private double[] initial;
    private int[] a;
    private int[] b;

    @Setup(Level.Trial)
    public void setUp() {
        be = BenchBackends.create(backend, Precision.parse(precision), BenchBackends.PATH_DEFAULT);
        net = new BinaryAdditionRnn(be, hidden);
        net.initLikeSeed(new NumpyRandom(0));
        initial = net.parameters();
        ws = net.workspace(batch);
        if (graphs) {
            replay = be.record(() -> net.trainStep(ws, LEARNING_RATE / batch));
        }
        a = new int[batch];
        b = new int[batch];
    }

    @Setup(Level.Iteration)
    public void resetWeights() {
        net.setParameters(initial);
        rng = new NumpyRandom(1);
        be.synchronize();
    }

    @Benchmark
    public void trainIteration() {
        RnnTrainer.drawProblems(rng, a, b);
        ws.setProblems(a, b);
        if (replay != null) {
            replay.replay();
        } else {
            net.trainStep(ws, LEARNING_RATE / batch);
        }
        be.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (replay != null) {
            replay.close();
        }
        if (ws != null) {
            ws.close();
        }
        if (net != null) {
            net.close();
        }
        if (be != null) {
            be.close();
        }
    }
}
