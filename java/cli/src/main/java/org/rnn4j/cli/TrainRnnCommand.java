package org.rnn4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Precision;
import org.rnn4j.trace.ParityCheck;
import org.rnn4j.trace.Traces;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.train.RnnTrainer;
import org.rnn4j.train.Trained;
import org.rnn4j.train.TrainingListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rnn4j train rnn}: iamtrask's binary-addition RNN. */
@Command(name = "rnn", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train iamtrask's RNN to add 8-bit binary numbers, one random pair a + b (a, b < 128) per "
                + "iteration, then test it on all 16384 pairs.",
                "The defaults are the seed's settings; with --precision float64 the run reproduces the seed's numbers."})
final class TrainRnnCommand implements Callable<Integer> {

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "16",
            description = "Hidden units. Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "10000",
            description = "Training iterations (one problem each). Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1",
            description = "Problems per iteration, drawn in order from the generator; the step uses the batch's "
                    + "average gradient, so 1 is the seed. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--graphs", description = "Record the training step once and replay it every iteration (a CUDA "
            + "graph on the GPU: one launch instead of dozens; the same numbers). On the CPU it changes nothing.")
    boolean graphs;

    @Option(names = "--report-every", paramLabel = "N", defaultValue = "1000",
            description = "Report (and trace) every N iterations, as the seed prints. Default: ${DEFAULT-VALUE}.")
    int reportEvery;

    @Mixin
    TrainOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Precision precision = options.validate();
        TrainOptions.atLeastOne(hidden, "--hidden");
        TrainOptions.atLeastOne(iterations, "--iterations");
        TrainOptions.atLeastOne(reportEvery, "--report-every");
        TrainOptions.atLeastOne(batch, "--batch");
        if ((long) batch * hidden > Integer.MAX_VALUE / (BinaryAdditionRnn.BITS + 1)) {
            throw new UsageException("--batch " + batch + " with --hidden " + hidden
                    + " is too large (the batch's hidden states must fit one buffer)");
        }
        if ((long) hidden * hidden > Integer.MAX_VALUE / 2) {
            throw new UsageException("--hidden " + hidden + " is too large (hidden * hidden must fit one buffer)");
        }
        long accuracyStates = BinaryAdditionRnn.largestBufferElements(RnnTrainer.ALL_PAIRS, hidden);
        if (accuracyStates > Integer.MAX_VALUE) {
            throw new UsageException("--hidden " + hidden + " is too large: the accuracy test over all 16384 pairs "
                    + "needs a buffer of " + accuracyStates + " elements, more than one buffer can hold ("
                    + Integer.MAX_VALUE + ")");
        }
        // the step is lr / batch, rounded in the backend's precision
        TrainOptions.representable(options.learningRate / batch, "the step --lr " + options.learningRate
                + " / --batch " + batch + " = " + options.learningRate / batch, precision);
        PrintWriter out = spec.commandLine().getOut();
        if (options.check) {
            var config = new RnnTrainer.Config(options.seed, hidden, iterations, options.learningRate, batch, graphs);
            return ParityRun.run(options, precision, "rnn", backend -> {
                List<ObjectNode> trace = new ArrayList<>();
                Trained<BinaryAdditionRnn> t = RnnTrainer.train(backend, config, j -> j % reportEvery == 0,
                        r -> trace.add(Traces.rnn(r)));
                try (BinaryAdditionRnn net = t.network()) {
                    return new ParityCheck.Outcome(trace, net.parameterTensors(), net.parameters());
                }
            }, out);
        }
        try (TrainingSession session = new TrainingSession(options, precision, "rnn", iterations, "error", out,
                spec.commandLine().getErr())) {
            // training, then the accuracy test: refused now rather than after the training
            var need = RnnTrainer.memoryNeeded(new RnnTrainer.Config(options.seed, hidden, iterations,
                    options.learningRate, batch, graphs), precision).max(RnnTrainer.accuracyMemoryNeeded(hidden,
                    precision));
            new org.rnn4j.train.MemoryNeed(need.what() + " (training, then the accuracy test over all 16384 pairs)",
                    need.backendBytes(), need.hostBytes()).require(session.backend);
            session.print(String.format(Locale.ROOT, "hidden %d, batch %d, %d iterations, learning rate %s, seed %d",
                    hidden, batch, iterations, options.learningRate, options.seed));
            TrainingListener<RnnTrainer.Report> listener = session.listener(Traces::rnn,
                    r -> session.progress.report(r.iteration(), r.error(), String.format(Locale.ROOT,
                            "%3d + %3d = %3d %s", r.a(), r.b(), r.predicted(),
                            r.predicted() == r.sum() ? "(right)" : "(true " + r.sum() + ")")));
            var config = new RnnTrainer.Config(options.seed, hidden, iterations, options.learningRate, batch, graphs);
            Trained<BinaryAdditionRnn> trained = RnnTrainer.train(session.backend, config,
                    j -> j % reportEvery == 0, listener);
            try (BinaryAdditionRnn net = trained.network()) {
                session.progress.finish();
                RnnTrainer.Accuracy acc = RnnTrainer.accuracy(net);
                Trained.Timing timing = trained.timing();
                session.print(String.format(Locale.ROOT, "trained in %.3f s (%,.0f iterations/s)", timing.seconds(),
                        timing.iterationsPerSecond()));
                session.print(String.format(Locale.ROOT, "accuracy: %d of %d pairs added exactly (%.4f)",
                        acc.correct(), acc.total(), acc.fraction()));
                for (int[] pair : samples(acc)) {
                    int got = acc.predicted(pair[0], pair[1]);
                    int want = pair[0] + pair[1];
                    session.print(String.format(Locale.ROOT, "  %3d + %3d = %3d  %s", pair[0], pair[1], got,
                            got == want ? "right" : "wrong, the sum is " + want));
                }
                ObjectNode summary = null;
                if (session.writesSummary()) {
                    summary = session.summaryBase("rnn", timing);
                    summary.put("hidden", hidden);
                    summary.put("batch", batch);
                    summary.put("graphs", graphs);
                    summary.put("accuracy", acc.fraction());
                }
                session.finish(summary);
            }
        }
        return 0;
    }

    /** A few pairs to show: up to three the network gets wrong, then fixed ones spread over the range. */
    private static List<int[]> samples(RnnTrainer.Accuracy acc) {
        int n = BinaryAdditionRnn.ADDEND_LIMIT;
        List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < n * n && pairs.size() < 3; i++) {
            if (acc.predictions()[i] != i / n + i % n) {
                pairs.add(new int[] {i / n, i % n});
            }
        }
        int[][] fixed = {{9, 60}, {127, 127}, {64, 63}, {85, 42}, {0, 1}};
        for (int i = 0; pairs.size() < 5; i++) {
            pairs.add(fixed[i]);
        }
        return pairs;
    }
}
