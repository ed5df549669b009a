package org.rnn4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Precision;
import org.rnn4j.trace.ParityCheck;
import org.rnn4j.trace.Traces;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.train.LstmTrainer;
import org.rnn4j.train.Trained;
import org.rnn4j.train.TrainingListener;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rnn4j train lstm}: nicodjimenez's minimal LSTM. */
@Command(name = "lstm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train nicodjimenez's minimal LSTM to map a fixed sequence of random input vectors to a "
                + "target sequence, read from the first hidden unit.",
                "The defaults are the seed's settings; with --precision float64 the run reproduces the seed's numbers."})
final class TrainLstmCommand implements Callable<Integer> {

    @Option(names = "--cell", paramLabel = "CELL", defaultValue = "seed",
            description = "seed (nicodjimenez's cell: h = s * o, the seed's initialisation) or standard (PyTorch's "
                    + "nn.LSTM cell: h = o * tanh(c), two biases, PyTorch's initialisation drawn from --seed). "
                    + "Default: ${DEFAULT-VALUE}.")
    String cell;

    @Option(names = "--hidden", paramLabel = "N", defaultValue = "100",
            description = "Memory cells (the seed's mem_cell_ct). Default: ${DEFAULT-VALUE}.")
    int hidden;

    @Option(names = "--input-dim", paramLabel = "N", defaultValue = "50",
            description = "Size of each input vector (the seed's x_dim). Default: ${DEFAULT-VALUE}.")
    int inputDim;

    @Option(names = "--targets", paramLabel = "LIST", defaultValue = "-0.5,0.2,0.1,-0.5",
            description = "Comma-separated target sequence; its length is the sequence length (in float32 each "
                    + "target must be a float32, |t| <= 3.4e38). Default: ${DEFAULT-VALUE}.")
    String targets;

    @Option(names = "--iterations", paramLabel = "N", defaultValue = "100",
            description = "Training iterations (one pass over the sequence each). Default: ${DEFAULT-VALUE}.")
    int iterations;

    @Option(names = "--graphs", description = "Record one training iteration once and replay it every iteration (a "
            + "CUDA graph on the GPU: one launch instead of dozens; the same numbers). On the CPU it changes nothing.")
    boolean graphs;

    @Option(names = "--report-every", paramLabel = "N", defaultValue = "10",
            description = "Print progress every N iterations (the trace records every iteration, as the oracle "
                    + "does). Default: ${DEFAULT-VALUE}.")
    int reportEvery;

    @Mixin
    TrainOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Precision precision = options.validate();
        TrainOptions.atLeastOne(hidden, "--hidden");
        TrainOptions.atLeastOne(inputDim, "--input-dim");
        TrainOptions.atLeastOne(iterations, "--iterations");
        TrainOptions.atLeastOne(reportEvery, "--report-every");
        double[] y = parseTargets(targets);
        if (precision == Precision.FLOAT32) {
            for (double v : y) {
                if (Float.isInfinite((float) v)) {
                    throw new UsageException("--targets: " + v + " is too large for float32 (it rounds to "
                            + "infinity; the largest float32 is " + Float.MAX_VALUE + "); use --precision float64");
                }
            }
        }
        if (!cell.equals("seed") && !cell.equals("standard")) {
            throw new UsageException("--cell: unknown cell '" + cell + "' (expected seed or standard)");
        }
        boolean standard = cell.equals("standard");
        long gateUnits = (long) GateLayout.GATES * hidden;
        if (gateUnits * ((long) hidden + inputDim) > Integer.MAX_VALUE / 2 || gateUnits * y.length > Integer.MAX_VALUE / 2) {
            throw new UsageException("--hidden " + hidden + " and --input-dim " + inputDim
                    + " are too large for this sequence (weights and gates must each fit one buffer)");
        }
        PrintWriter out = spec.commandLine().getOut();
        int last = iterations - 1;
        if (options.check) {
            var config = new LstmTrainer.Config(options.seed, hidden, inputDim, y, iterations, options.learningRate,
                    graphs);
            return ParityRun.run(options, precision, "lstm (" + cell + " cell)", backend -> {
                List<ObjectNode> trace = new ArrayList<>();
                Trained<LstmLayer> t = standard
                        ? LstmTrainer.trainStandard(backend, config, j -> true, r -> trace.add(Traces.lstm(r)))
                        : LstmTrainer.train(backend, config, j -> true, r -> trace.add(Traces.lstm(r)));
                try (LstmLayer net = t.network()) {
                    return new ParityCheck.Outcome(trace, net.parameterTensors(), net.parameters());
                }
            }, out);
        }
        try (TrainingSession session = new TrainingSession(options, precision, "lstm", iterations, "loss", out,
                spec.commandLine().getErr())) {
            session.print(String.format(Locale.ROOT,
                    "%s cell, hidden %d, input %d, %d steps, %d iterations, learning rate %s, seed %d",
                    cell, hidden, inputDim, y.length, iterations, options.learningRate, options.seed));
            LstmTrainer.Report[] lastReport = new LstmTrainer.Report[1];
            TrainingListener<LstmTrainer.Report> listener = session.listener(Traces::lstm, r -> {
                lastReport[0] = r;
                if (r.iteration() % reportEvery == 0 || r.iteration() == last) {
                    session.progress.report(r.iteration(), r.loss(), "predictions " + format(r.predictions()));
                }
            });
            var config = new LstmTrainer.Config(options.seed, hidden, inputDim, y, iterations, options.learningRate,
                    graphs);
            java.util.function.IntPredicate observe = j -> session.tracing() || j % reportEvery == 0 || j == last;
            Trained<LstmLayer> trained = standard
                    ? LstmTrainer.trainStandard(session.backend, config, observe, listener)
                    : LstmTrainer.train(session.backend, config, observe, listener);
            try (LstmLayer ignored = trained.network()) {
                session.progress.finish();
                Trained.Timing timing = trained.timing();
                LstmTrainer.Report fin = lastReport[0];
                session.print(String.format(Locale.ROOT, "trained in %.3f s (%,.0f iterations/s)", timing.seconds(),
                        timing.iterationsPerSecond()));
                session.print("targets     " + format(y));
                session.print("predictions " + format(fin.predictions()));
                session.print(String.format(Locale.ROOT, "final loss  %.6e (iteration %d)", fin.loss(),
                        fin.iteration()));
                ObjectNode summary = null;
                if (session.writesSummary()) {
                    summary = session.summaryBase("lstm", timing);
                    summary.put("cell", cell);
                    summary.put("hidden", hidden);
                    summary.put("input_dim", inputDim);
                    summary.put("graphs", graphs);
                    ArrayNode t = summary.putArray("targets");
                    for (double v : y) {
                        t.add(v);
                    }
                    summary.put("final_loss", fin.loss());
                    ArrayNode p = summary.putArray("predictions");
                    for (double v : fin.predictions()) {
                        p.add(v);
                    }
                }
                session.finish(summary);
            }
        }
        return 0;
    }

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    static double[] parseTargets(String text) {
        String[] parts = text.split(",", -1);
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i].strip();
            // Plain decimal numbers only, as Python's float() reads them (no Java suffixes, hex, NaN or Infinity)
            values[i] = DECIMAL.matcher(part).matches() ? Double.parseDouble(part) : Double.NaN;
            if (!Double.isFinite(values[i])) {
                throw new UsageException("--targets: expected comma-separated numbers such as -0.5,0.2,0.1,-0.5, "
                        + "got '" + text + "'");
            }
        }
        return values;
    }

    private static String format(double[] values) {
        StringBuilder sb = new StringBuilder();
        for (double v : values) {
            sb.append(String.format(Locale.ROOT, "%+.5f ", v));
        }
        return sb.toString().strip();
    }
}
