package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BackendProvider;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.check.ParityCheck;

/**
 * {@code train rnn|lstm --check}: the same training on the CPU and on CUDA, side by side, compared by
 * {@link ParityCheck}; exit 0 when every value is within tolerance, 1 when one is not. A third run supplies the bound:
 * in float32 the CPU in float64, in float64 the CPU with each GEMM's sum split in two (rounding perturbed).
 */
final class ParityRun {

    private ParityRun() {
    }

    /** The CPU against the CUDA backend; a usage error (exit 2) when CUDA cannot run here. */
    static int run(TrainOptions options, Precision precision, String network,
                   Function<Backend, ParityCheck.Outcome> train, PrintWriter out) {
        if (!options.backend.equals("auto") && !options.backend.equals("cuda")) {
            throw new UsageException("--check compares the cuda backend with the cpu backend; it takes no --backend "
                    + options.backend);
        }
        BackendProvider cuda;
        try {
            cuda = Backends.choose("cuda").provider();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--check needs the CUDA backend: " + e.getMessage());
        }
        return run(options, precision, network, train, out, Backends.providers().get(0), cuda);
    }

    /** {@code candidate} against {@code reference}; separate so that tests can pass other providers. */
    static int run(TrainOptions options, Precision precision, String network,
                   Function<Backend, ParityCheck.Outcome> train, PrintWriter out,
                   BackendProvider reference, BackendProvider candidate) {
        if (options.trace != null || options.summary != null) {
            throw new UsageException("--check writes no trace or summary; run without --check for those");
        }
        ParityCheck.Outcome ref = trainOn(() -> reference.create(precision), train, out);
        ParityCheck.Outcome got = trainOn(() -> candidate.create(precision), train, out);
        ParityCheck.Report report = precision == Precision.FLOAT64
                ? ParityCheck.compare64(got, ref,
                        trainOn(() -> CpuBackend64.withSplitSums(ParityCheck.SPLIT_AT), train, out))
                : ParityCheck.compare32(got, ref, trainOn(() -> reference.create(Precision.FLOAT64), train, out));
        out.printf(Locale.ROOT, "parity check, %s, %s: %s against %s%n", network, precision.cliName(),
                candidate.name(), reference.name());
        report.table(candidate.name(), reference.name()).forEach(out::println);
        out.flush();
        return report.passed() ? 0 : 1;
    }

    private static ParityCheck.Outcome trainOn(Supplier<Backend> create,
                                               Function<Backend, ParityCheck.Outcome> train, PrintWriter out) {
        try (Backend backend = create.get()) {
            out.println("training on " + backend.description());
            out.flush();
            long start = System.nanoTime();
            ParityCheck.Outcome o = train.apply(backend);
            out.printf(Locale.ROOT, "  done in %.2f s%n", (System.nanoTime() - start) / 1e9);
            return o;
        }
    }
}
