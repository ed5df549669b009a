package org.rnn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import java.util.function.Function;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Device;
import org.rnn4j.backend.DeviceRequest;
import org.rnn4j.backend.DeviceUnavailableException;
import org.rnn4j.backend.Precision;
import org.rnn4j.io.AtomicFile;
import org.rnn4j.train.Trained;
import org.rnn4j.train.TrainingListener;

/**
 * The plumbing one training command needs around the training itself: the backend, the trace and summary files
 * (opened before any work, so that a bad path fails at once; moved into place only when the run succeeds), progress,
 * and the summary at the end.
 */
final class TrainingSession implements AutoCloseable {

    /** Jackson, loaded only by a run that writes a summary (its 370 classes took 0.1-0.4 s of every short run). */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    final Backend backend;
    final Progress progress;
    final PrintWriter out;
    private final TrainOptions options;
    private final AtomicFile trace;
    private final AtomicFile summary;

    TrainingSession(TrainOptions options, Precision precision, String network, int iterations, String lossName,
                    PrintWriter out, PrintWriter err) {
        this.options = options;
        this.out = out;
        AtomicFile traceFile = null;
        AtomicFile summaryFile = null;
        try {
            traceFile = options.trace == null ? null : AtomicFile.open(options.trace, "--trace");
            summaryFile = options.summary == null ? null : AtomicFile.open(options.summary, "--summary");
            if (traceFile != null && summaryFile != null && traceFile.writesSameFileAs(summaryFile)) {
                throw new UsageException("--summary: '" + options.summary + "' is the same file as --trace '"
                        + options.trace + "'; give two different files");
            }
        } catch (AtomicFile.UnwritableException | UsageException e) {
            if (traceFile != null) {
                traceFile.close();
            }
            if (summaryFile != null) {
                summaryFile.close();
            }
            throw e instanceof UsageException u ? u : new UsageException(e.getMessage());
        }
        this.trace = traceFile;
        this.summary = summaryFile;
        Device device;
        try {
            device = Device.open(DeviceRequest.parse(options.backend), precision);
        } catch (IllegalArgumentException | DeviceUnavailableException e) {
            close();
            // a bad environment setting (RNN4J_CPU_GEMM=bogus) names itself; anything else is about --backend
            String m = String.valueOf(e.getMessage());
            throw new UsageException(m.startsWith("RNN4J_") ? m : "--backend: " + m);
        }
        if (device.fellBack()) {
            err.println("rnn4j: " + device.reason());
            err.flush();
        }
        this.backend = device.backend();
        boolean terminal = System.console() != null;
        this.progress = new Progress(out, terminal, options.quiet, iterations, lossName);
        if (!options.quiet) {
            out.println("rnn4j train " + network + ": " + backend.description());
        }
    }

    boolean tracing() {
        return trace != null;
    }

    /**
     * The listener both training commands need: each iteration moves the progress display; each report is traced
     * (when tracing) as {@code toTrace} makes it, then shown by {@code show}.
     */
    <R> TrainingListener<R> listener(Function<R, ObjectNode> toTrace, Consumer<R> show) {
        return new TrainingListener<>() {
            @Override
            public void iterationDone(int iteration) {
                progress.iterationDone(iteration);
            }

            @Override
            public void report(R report) {
                if (trace != null) {
                    trace.println(toTrace.apply(report).toString());
                }
                show.accept(report);
            }
        };
    }

    /** Whether this run writes a summary ({@code --summary}); when not, Jackson is never loaded. */
    boolean writesSummary() {
        return summary != null;
    }

    /** A summary object with the fields every network shares; the caller adds its result. */
    ObjectNode summaryBase(String network, Trained.Timing timing) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        s.put("network", network);
        s.put("backend", backend.name());
        s.put("precision", backend.precision().cliName());
        s.put("seed", options.seed);
        s.put("learning_rate", options.learningRate);
        s.put("iterations", timing.iterations());
        s.put("seconds", timing.seconds());
        s.put("iterations_per_second", timing.iterationsPerSecond());
        return s;
    }

    /**
     * Moves the trace into place and writes the summary ({@code summaryObject}, null when {@link #writesSummary} is
     * false); only a successful run gets here.
     */
    void finish(ObjectNode summaryObject) {
        try {
            if (trace != null) {
                trace.commit();
            }
            if (summary != null && summaryObject != null) {
                summary.println(Json.MAPPER.writeValueAsString(summaryObject));
                summary.commit();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    void print(String line) {
        if (!options.quiet) {
            out.println(line);
        }
    }

    @Override
    public void close() {
        if (trace != null) {
            trace.close();
        }
        if (summary != null) {
            summary.close();
        }
        if (backend != null) {
            backend.close();
        }
        out.flush();
    }
}
