package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.BinaryAdditionRnn;
import org.rnn4j.net.LstmLayer;
import org.rnn4j.nn.Sequential;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code rnn4j memory rnn|lstm|charlm}: the bytes a configuration needs on its backend, from the formulas the tests
 * check. {@code charlm} is the library's {@code Embedding -> LSTM -> Linear} model trained with cross-entropy,
 * clipping and Adam ({@link Sequential}).
 */
@Command(name = "memory", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The memory a training configuration holds on its backend (device memory on a GPU): "
                + "parameters, their gradients, and the activations that grow with steps * batch * hidden.",
                "The same formulas MemoryTest checks against the backend's live allocations (docs/memory.md)."})
final class MemoryCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NETWORK", description = "rnn, lstm or charlm (Embedding -> LSTM -> Linear "
            + "with cross-entropy, clipping and Adam)")
    String network;

    @Option(names = "--cell", paramLabel = "CELL", defaultValue = "seed", description = "lstm: seed or standard.")
    String cell;

    @Option(names = "--hidden", paramLabel = "N", description = "Hidden units (default: rnn 16, lstm 100, charlm 256).")
    Integer hidden;

    @Option(names = "--input-dim", paramLabel = "N", defaultValue = "50", description = "lstm: input size X.")
    int inputDim;

    @Option(names = "--steps", paramLabel = "T", defaultValue = "4", description = "lstm, charlm: sequence length T.")
    int steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "Batch size B.")
    int batch;

    @Option(names = "--vocab", paramLabel = "V", defaultValue = "65", description = "charlm: vocabulary size V.")
    int vocab;

    @Option(names = "--embedding", paramLabel = "E", defaultValue = "64", description = "charlm: embedding size E.")
    int embedding;

    @Option(names = "--layers", paramLabel = "L", defaultValue = "2", description = "charlm: stacked LSTM layers L.")
    int layers;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0",
            description = "charlm: dropout between LSTM layers (adds its masks).")
    double dropout;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "float32", description = "float32 or float64.")
    String precision;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Precision p;
        try {
            p = Precision.parse(precision);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--precision: " + e.getMessage());
        }
        TrainOptions.atLeastOne(batch, "--batch");
        TrainOptions.atLeastOne(steps, "--steps");
        TrainOptions.atLeastOne(inputDim, "--input-dim");
        long params;
        long activations;
        long largest;
        long optimizer = 0;
        String what;
        int h;
        try {
            switch (network) {
                case "rnn" -> {
                    h = hidden == null ? 16 : hidden;
                    TrainOptions.atLeastOne(h, "--hidden");
                    what = String.format(Locale.ROOT, "rnn, hidden %d, batch %d, 8 steps", h, batch);
                    params = BinaryAdditionRnn.parameterCount(h);
                    activations = BinaryAdditionRnn.workspaceElements(batch, h);
                    largest = BinaryAdditionRnn.largestBufferElements(batch, h);
                }
                case "lstm" -> {
                    h = hidden == null ? 100 : hidden;
                    TrainOptions.atLeastOne(h, "--hidden");
                    LstmLayer.Cell c = switch (cell) {
                        case "standard" -> LstmLayer.Cell.STANDARD;
                        case "seed" -> LstmLayer.Cell.SEED;
                        default -> throw new UsageException("--cell: unknown cell '" + cell
                                + "' (expected seed or standard)");
                    };
                    what = String.format(Locale.ROOT, "lstm (%s cell), input %d, hidden %d, batch %d, %d steps",
                            cell, inputDim, h, batch, steps);
                    // Both cells train on LstmLayer; its workspace is the same for either.
                    params = LstmLayer.parameterCount(c, inputDim, h);
                    activations = LstmLayer.workspaceElements(steps, batch, inputDim, h);
                    largest = LstmLayer.largestBufferElements(c, steps, batch, inputDim, h);
                }
                case "charlm" -> {
                    h = hidden == null ? 256 : hidden;
                    TrainOptions.atLeastOne(h, "--hidden");
                    TrainOptions.atLeastOne(vocab, "--vocab");
                    TrainOptions.atLeastOne(embedding, "--embedding");
                    TrainOptions.atLeastOne(layers, "--layers");
                    if (!(dropout >= 0 && dropout < 1)) {
                        throw new UsageException("--dropout must be in [0, 1), got " + dropout);
                    }
                    try {
                        Sequential.Builder model = Sequential.builder().embedding(vocab, embedding)
                                .lstm(h, layers, dropout).linear(vocab);
                        params = model.parameterCount();
                        // the workspace, the loss's targets and value, the clipping's norm and factor
                        activations = Math.addExact(model.workspaceElements(steps, batch),
                                (long) steps * batch + 1 + 2);
                    } catch (IllegalArgumentException e) { // a size the layers cannot hold, e.g. 4 * hidden > 2^31
                        throw new UsageException(e.getMessage());
                    }
                    optimizer = Math.addExact(Math.multiplyExact(2, params), 1); // Adam's two moments, its step count
                    // the arena (parameters and gradients), or the widest activation: logits or gates over (T, B)
                    largest = Math.max(Math.multiplyExact(2, params),
                            Math.multiplyExact((long) steps * batch, Math.max(vocab, 4L * h)));
                    what = String.format(Locale.ROOT, "charlm (embedding %d -> lstm %d x %d%s -> linear %d), batch %d, "
                            + "%d steps, Adam", embedding, h, layers, dropout > 0 ? ", dropout " + dropout : "", vocab,
                            batch, steps);
                }
                default -> throw new UsageException("NETWORK must be rnn, lstm or charlm, got '" + network + "'");
            }
            // every count below in exact arithmetic: what overflows is refused, never printed negative
            Math.multiplyExact(Math.addExact(Math.addExact(Math.multiplyExact(2, params), optimizer), activations),
                    (long) p.bytes());
        } catch (ArithmeticException e) {
            throw new UsageException("--hidden " + (hidden == null ? "(default)" : hidden) + ", --input-dim "
                    + inputDim + ", --batch " + batch + ", --steps " + steps + ": too large, the number of bytes "
                    + "does not fit 64 bits");
        }
        if (largest > Integer.MAX_VALUE) {
            throw new UsageException(what + ": cannot be allocated, one buffer would hold " + String.format(Locale.ROOT,
                    "%,d", largest) + " elements, more than a buffer's limit of "
                    + String.format(Locale.ROOT, "%,d", Integer.MAX_VALUE) + " (--hidden, --input-dim, --batch and "
                    + "--steps set its size)");
        }
        PrintWriter out = spec.commandLine().getOut();
        int bytes = p.bytes();
        out.println(what + ", " + p.cliName());
        line(out, "parameters", params, bytes);
        line(out, "gradients", params, bytes);
        if (optimizer > 0) {
            line(out, "optimizer", optimizer, bytes);
        }
        line(out, "activations", activations, bytes);
        line(out, "total", 2 * params + optimizer + activations, bytes);
        return 0;
    }

    private static void line(PrintWriter out, String name, long values, int bytes) {
        out.printf(Locale.ROOT, "%-12s %,16d values %,18d bytes %12.1f MiB%n", name, values, values * bytes,
                values * (double) bytes / (1 << 20));
    }
}
