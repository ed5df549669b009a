package org.rnn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.rnn4j.trace.TraceComparison;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rnn4j compare GOT WANT}: value-by-value comparison of two traces. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Compare two JSON-lines traces value by value (for example an rnn4j trace with the oracle's): "
                + "integers exactly, numbers within rtol * |want| + atol.",
                "Exit code 0 when every value is within tolerance, 1 otherwise; 2 when a file cannot be read, is not "
                        + "JSON lines (the file and line are named) or WANT holds no lines."})
final class CompareCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "GOT", description = "The trace to check.")
    Path got;

    @Parameters(index = "1", paramLabel = "WANT", description = "The reference trace.")
    Path want;

    @Option(names = "--rtol", paramLabel = "X", defaultValue = "1e-9",
            description = "Relative tolerance. Default: ${DEFAULT-VALUE}.")
    double rtol;

    @Option(names = "--atol", paramLabel = "X", defaultValue = "1e-12",
            description = "Absolute tolerance. Default: ${DEFAULT-VALUE}.")
    double atol;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!(rtol >= 0) || !(atol >= 0) || !Double.isFinite(rtol) || !Double.isFinite(atol)) {
            throw new UsageException("--rtol and --atol must be finite and not negative");
        }
        List<JsonNode> g = read(got, "GOT");
        List<JsonNode> w = read(want, "WANT");
        if (w.isEmpty()) {
            // zero lines compared is no success: the reference must hold something to check against
            throw new UsageException("WANT: '" + want + "' holds no trace lines (an empty file?); nothing to compare"
                    + (g.isEmpty() ? " (GOT is empty too)" : ""));
        }
        TraceComparison.Result r = TraceComparison.compare(g, w, rtol, atol);
        PrintWriter out = spec.commandLine().getOut();
        for (String f : r.failures()) {
            out.println("  " + f);
        }
        out.println(r.summary());
        return r.passed() ? 0 : Main.FAILURE;
    }

    /** The handler in {@link Main} keeps the message to its first line. */
    private static List<JsonNode> read(Path path, String label) {
        try {
            return TraceComparison.read(path);
        } catch (TraceComparison.MalformedTraceException e) {
            throw new UsageException(label + ": '" + path + "' " + e.getMessage());
        } catch (IOException e) {
            String why = e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage();
            throw new UsageException(label + ": cannot read '" + path + "': " + why);
        }
    }
}
