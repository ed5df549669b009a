package org.rnn4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.spi.BackendProvider;
import org.rnn4j.cuda.CudaBackendProvider;

/**
 * The backends the benchmarks can run on here, and how a benchmark makes one.
 *
 * <p>As a program it prints the usable backends' names comma-separated on one line ({@code cpu} or {@code cpu,cuda}),
 * which {@code bench/run.sh} passes to JMH as {@code -p backend=...}; with {@code --explain} it prints one line per
 * known backend saying whether it is usable and why, followed by its availability details.
 */
public final class BenchBackends {

    /** {@code gemmPath} values: the backend's own choice, or (CUDA only) rnn4j's built-in GEMM kernel. */
    public static final String PATH_DEFAULT = "default";
    public static final String PATH_BUILTIN = "builtin";

    private BenchBackends() {
    }

    /** The names of the providers whose {@link BackendProvider#availability()} is usable, the CPU first. */
    public static List<String> usable() {
        List<String> names = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            if (p.availability().usable()) {
                names.add(p.name());
            }
        }
        return names;
    }

    /** The provider called {@code name}, usable or not. */
    public static Optional<BackendProvider> provider(String name) {
        return Backends.providers().stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /**
     * A new backend for a benchmark.
     *
     * @param gemmPath {@link #PATH_DEFAULT}, or {@link #PATH_BUILTIN} for the CUDA backend with its own GEMM kernel
     * @throws IllegalArgumentException for an unknown or unusable backend (with why), or {@code builtin} on a backend
     *                                  other than {@code cuda}
     */
    public static Backend create(String name, Precision precision, String gemmPath) {
        BackendProvider provider = Backends.choose(name).provider();
        switch (gemmPath) {
            case PATH_DEFAULT:
                return provider.create(precision);
            case PATH_BUILTIN:
                if (!provider.name().equals("cuda")) {
                    throw new IllegalArgumentException("gemmPath=builtin applies only to the cuda backend ("
                            + provider.name() + " has one GEMM path); this combination is skipped");
                }
                return CudaBackendProvider.create(precision, false);
            default:
                throw new IllegalArgumentException("unknown gemmPath '" + gemmPath + "' (expected default or builtin)");
        }
    }

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("--explain")) {
            for (BackendProvider p : Backends.providers()) {
                BackendProvider.Availability a = p.availability();
                System.out.println(p.name() + ": " + (a.usable() ? "usable" : "not usable") + " - " + a.reason());
                a.details().forEach(d -> System.out.println("  " + d));
            }
            return;
        }
        if (args.length != 0) {
            System.err.println("usage: BenchBackends [--explain]");
            System.exit(2);
        }
        System.out.println(String.join(",", usable()));
    }
}
