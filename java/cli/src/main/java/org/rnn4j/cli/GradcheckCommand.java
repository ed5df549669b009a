package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.rnn4j.check.GradientCheck;
import org.rnn4j.net.ParamTensor;
import org.rnn4j.rng.NumpyRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rnn4j gradcheck rnn|lstm|lstm-stack|model|linear-mse}. */
@Command(name = "gradcheck", mixinStandardHelpOptions = true,
        description = {"Check a network's backward pass against finite differences of its loss, in float64 on the "
                + "CPU, on a small network with random weights and data; every parameter is checked.",
                "The last line is 'max relative error <E>'; exit code 0 when E < 1e-6, 1 otherwise."})
final class GradcheckCommand implements Callable<Integer> {

    @Parameters(paramLabel = "NETWORK", description = "rnn, lstm, lstm-stack (the 2-layer org.rnn4j.nn.Lstm "
            + "with given h0 and c0; also checks the gradients of the input, h0 and c0), model (embedding -> 2-layer "
            + "LSTM with dropout and given h0, c0 -> linear, cross-entropy; also h0 and c0) or linear-mse (linear "
            + "with mean squared error; also the input)")
    String network;

    @Option(names = "--cell", paramLabel = "CELL",
            description = "lstm: seed (nicodjimenez's cell, the default) or standard (PyTorch's nn.LSTM cell, all four "
                    + "tensors weight_ih, weight_hh, bias_ih, bias_hh).")
    String cell;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed for the random weights and data. Default: ${DEFAULT-VALUE}.")
    long seed;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (seed < 0 || seed > NumpyRandom.MAX_SEED) {
            throw new UsageException("--seed must be between 0 and " + NumpyRandom.MAX_SEED + ", got " + seed);
        }
        if (!List.of("rnn", "lstm", "lstm-stack", "model", "linear-mse").contains(network)) {
            throw new UsageException("gradcheck: unknown network '" + network + "' (expected rnn, lstm, lstm-stack, "
                    + "model or linear-mse)");
        }
        if (cell != null && !network.equals("lstm")) {
            throw new UsageException("--cell applies to lstm only; " + network + " has one cell");
        }
        String c = cell == null ? "seed" : cell;
        GradientCheck.Result result = switch (network + " " + c) {
            case "rnn seed" -> GradientCheck.rnn(seed);
            case "lstm seed" -> GradientCheck.lstm(seed);
            case "lstm standard" -> GradientCheck.standardLstm(seed);
            case "lstm-stack seed" -> GradientCheck.lstmStack(seed);
            case "model seed" -> GradientCheck.model(seed);
            case "linear-mse seed" -> GradientCheck.linearMse(seed);
            default -> throw new UsageException("--cell: unknown cell '" + cell + "' (expected seed or standard)");
        };
        String name = network.equals("lstm") ? "lstm, " + c + " cell" : network;
        PrintWriter out = spec.commandLine().getOut();
        out.println("gradient check, " + name + " (" + result.setting() + "), float64, fourth-order central "
                + "differences");
        int width = 10;
        for (GradientCheck.TensorResult t : result.tensors()) {
            width = Math.max(width, t.tensor().name().length());
        }
        for (GradientCheck.TensorResult t : result.tensors()) {
            ParamTensor p = t.tensor();
            out.printf(Locale.ROOT, "  %-" + width + "s (%d x %d): max relative error %.3e at element %d (analytic "
                    + "%.9e, numeric %.9e)%n", p.name(), p.rows(), p.cols(), t.maxRelativeError(), t.worstIndex(),
                    t.analytic(), t.numeric());
        }
        out.printf(Locale.ROOT, "max relative error %.3e%n", result.maxRelativeError());
        return result.passed() ? 0 : Main.FAILURE;
    }
}
