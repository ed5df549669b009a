package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Precision;
import org.rnn4j.cuda.KernelHarness;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rnn4j kernels --validate --bench}: each CUDA kernel family against the CPU reference on awkward sizes, then
 * timed against the device's own limits ({@link KernelHarness}). Exit 0 when every validation passed, 1 when one did
 * not, 2 for bad input or when CUDA cannot run here.
 */
@Command(name = "kernels", mixinStandardHelpOptions = true,
        description = {"Validate each CUDA kernel family against the CPU reference on random inputs of awkward sizes "
                + "(the first mismatches are printed), then time it against the device's own limits: memory "
                + "bandwidth for elementwise kernels and reductions, float32/float64 peak for GEMM.",
                "Without --validate or --bench both run. Exit 0: every validation passed; 1: one did not; 2: bad "
                        + "input, or no usable CUDA device (the reason is printed)."})
final class KernelsCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--validate", description = "Run each family against the CPU reference.")
    boolean validate;

    @Option(names = "--bench", description = "Time each family and compare it with the device's limits.")
    boolean bench;

    @Option(names = "--precision", paramLabel = "P",
            description = "float32, float64 or both (default: both).")
    String precision = "both";

    @Option(names = "--family", paramLabel = "F", split = ",",
            description = "Families to run, comma-separated: elementwise, reduction, gemm, optimizer (default: all).")
    List<String> families = KernelHarness.FAMILIES;

    @Option(names = "--quick", description = "Fewer repetitions and smaller float64 GEMMs (the device check's preset).")
    boolean quick;

    @Override
    public Integer call() {
        List<Precision> precisions = switch (precision) {
            case "both" -> List.of(Precision.FLOAT32, Precision.FLOAT64);
            case "float32" -> List.of(Precision.FLOAT32);
            case "float64" -> List.of(Precision.FLOAT64);
            default -> throw new UsageException("--precision must be float32, float64 or both, got '" + precision
                    + "'");
        };
        Set<String> chosen = new LinkedHashSet<>();
        for (String f : families) {
            String name = f.trim();
            if (!KernelHarness.FAMILIES.contains(name)) {
                throw new UsageException("--family: unknown family '" + name + "' (known: "
                        + String.join(", ", KernelHarness.FAMILIES) + ")");
            }
            chosen.add(name);
        }
        boolean both = !validate && !bench;
        KernelHarness.Options options = new KernelHarness.Options(validate || both, bench || both, precisions, chosen,
                quick);
        String unavailable = KernelHarness.unavailableReason();
        if (unavailable != null) {
            spec.commandLine().getErr().println("rnn4j: kernels: " + unavailable);
            return Main.USAGE;
        }
        PrintWriter out = spec.commandLine().getOut();
        KernelHarness.Outcome outcome = KernelHarness.run(options, out);
        if (!outcome.passed()) {
            spec.commandLine().getErr().println("rnn4j: kernels: " + outcome.failed() + " of " + outcome.cases()
                    + " validation cases failed (the MISMATCH lines above)");
            return Main.FAILURE;
        }
        return 0;
    }
}
