package org.rnn4j.cuda;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.cpu.CpuBackendProvider;

/**
 * Validate, then benchmark, each kernel family, as llm.c's {@code dev/cuda} does ({@code rnn4j kernels --validate
 * --bench}; the {@code gpu} test {@code KernelHarnessTest} runs the validation half).
 *
 * <p><b>Validation</b>: every case runs on CUDA and on the CPU backend of the same precision, on random inputs of
 * awkward sizes (1, odd, either side of 256 and of the warp, large), and each output is compared element by element,
 * {@code |cuda - cpu| <= atol + rtol |cpu|} with the bounds of the per-op parity tests ({@code docs/parity.md}):
 * {@code 8u} for float64 elementwise kernels, {@code 128u} for float32 ones with {@code exp}/{@code tanh}, the
 * recursive-summation bound {@code 2 (k + 2) u sum |a b|} per element for GEMM, {@code (classes + 8) 8u} for the
 * cross-entropy, bit for bit for the L2 norm and MSE, {@code 64u} for Adam. The first mismatches of a failing case are
 * printed (index, got, want, difference, bound).
 *
 * <p><b>Benchmark</b>: each family at sizes of 64 MB and more (GEMM at 4096, float64 at 2048 with {@code quick}),
 * timed over repeated launches between two {@link Backend#synchronize()} calls after a warm-up, and set against the
 * device's own limits ({@link DeviceLimits}): the elementwise kernels and the reductions in GB/s of the minimal memory
 * traffic (each input read once, each output written once) against the peak bandwidth, the GEMMs in TFLOP/s
 * ({@code 2 m n k} per product) against the peak of their precision, on every GEMM path the machine has.
 */
public final class KernelHarness {

    /** The kernel families, in the order they run. */
    public static final List<String> FAMILIES = List.of("elementwise", "reduction", "gemm", "optimizer");

    /**
     * What to run.
     *
     * @param validate run the validation half
     * @param bench run the benchmark half
     * @param precisions the precisions, each in turn
     * @param families a subset of {@link #FAMILIES}
     * @param quick fewer repetitions and smaller float64 GEMMs, for the device check's time budget
     */
    public record Options(boolean validate, boolean bench, List<Precision> precisions, Set<String> families,
                          boolean quick) {
        /**
         * Checks the options and copies the collections.
         *
         * @param validate   run the validation half
         * @param bench      run the benchmark half
         * @param precisions the precisions, not empty
         * @param families   a non-empty subset of {@link #FAMILIES}
         * @param quick      fewer repetitions
         * @throws IllegalArgumentException naming what is wrong
         */
        public Options {
            if (!validate && !bench) {
                throw new IllegalArgumentException("options: validate, bench or both");
            }
            precisions = List.copyOf(precisions);
            if (precisions.isEmpty()) {
                throw new IllegalArgumentException("precisions must not be empty");
            }
            families = Set.copyOf(families);
            for (String f : families) {
                if (!FAMILIES.contains(f)) {
                    throw new IllegalArgumentException("families: unknown family " + f + " (known: "
                            + String.join(", ", FAMILIES) + ")");
                }
            }
            if (families.isEmpty()) {
                throw new IllegalArgumentException("families must not be empty");
            }
        }

        /**
         * Every family in both precisions.
         *
         * @param validate compare with the CPU
         * @param bench    time and compare with the device's limits
         * @param quick    fewer repetitions
         * @return the options
         */
        public static Options all(boolean validate, boolean bench, boolean quick) {
            return new Options(validate, bench, List.of(Precision.FLOAT32, Precision.FLOAT64),
                    new LinkedHashSet<>(FAMILIES), quick);
        }
    }

    /** The outcome: the validation cases run and failed, and the benchmark lines printed. */
    public record Outcome(int cases, int failed, int benchmarks) {
        /** @return whether no validation case failed */
        public boolean passed() {
            return failed == 0;
        }
    }

    private static final int SHOW = 5;

    private final Options options;
    private final PrintWriter out;
    /** The backend under test for a precision and a GEMM path (null: the machine's default path). */
    private final BiFunction<Precision, GemmChoice.Kind, Backend> candidate;
    private final List<GemmChoice.Kind> gemmPaths;
    private final String gemmLine;
    private final DeviceLimits limits;
    private final int benchShift;
    private int cases;
    private int failed;
    private int benchmarks;

    private KernelHarness(Options options, PrintWriter out, BiFunction<Precision, GemmChoice.Kind, Backend> candidate,
                          List<GemmChoice.Kind> gemmPaths, String gemmLine, DeviceLimits limits, int benchShift) {
        this.options = options;
        this.out = out;
        this.candidate = candidate;
        this.gemmPaths = List.copyOf(gemmPaths);
        this.gemmLine = gemmLine;
        this.limits = limits;
        this.benchShift = benchShift;
    }

    /**
     * Why the harness cannot run here.
     *
     * @return the reason, or null when CUDA is usable
     */
    public static String unavailableReason() {
        CudaProbe.Result r = CudaProbe.get();
        return r.usable() ? null : "CUDA is not usable here: " + r.reason();
    }

    /**
     * Runs the harness.
     *
     * @param options what to run
     * @param out     where the report goes
     * @return the outcome
     * @throws IllegalStateException when CUDA is not usable here ({@link #unavailableReason()})
     */
    public static Outcome run(Options options, PrintWriter out) {
        CudaProbe.Result r = CudaProbe.get();
        if (!r.usable()) {
            throw new IllegalStateException("CUDA is not usable here: " + r.reason());
        }
        List<GemmChoice.Kind> paths = new ArrayList<>(List.of(GemmChoice.Kind.EXACT, GemmChoice.Kind.FAST));
        if (r.gemm().cublas()) {
            paths.add(GemmChoice.Kind.CUBLAS);
        }
        BiFunction<Precision, GemmChoice.Kind, Backend> cuda = (p, kind) -> CudaBackendProvider.create(p,
                kind == null ? r.gemm().path(p).kind() : kind);
        return new KernelHarness(options, out, cuda, paths, r.gemm().line(), limits(r.device()), 0).runAll();
    }

    /**
     * Runs the harness on another candidate backend (the harness's own tests: the CPU against itself, or a broken
     * backend), the benchmark sizes' first dimension divided by {@code 2^benchShift}; {@code limits} may be null.
     */
    static Outcome runWith(Options options, PrintWriter out, BiFunction<Precision, GemmChoice.Kind, Backend> candidate,
                           List<GemmChoice.Kind> gemmPaths, DeviceLimits limits, int benchShift) {
        return new KernelHarness(options, out, candidate, gemmPaths, "(as given by the caller)", limits, benchShift)
                .runAll();
    }

    private static DeviceLimits limits(CudaProbe.Device d) {
        CUdevice dev = new CUdevice();
        JCudaDriver.cuDeviceGet(dev, d.ordinal());
        return new DeviceLimits(d.name(), d.major(), d.minor(), d.multiprocessors(),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
                attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH));
    }

    /** An attribute, or 0 when the driver does not report it. */
    private static int attribute(CUdevice d, int attribute) {
        int[] v = new int[1];
        try {
            JCudaDriver.cuDeviceGetAttribute(v, attribute, d);
        } catch (RuntimeException e) {
            return 0;
        }
        return v[0];
    }

    private Outcome runAll() {
        if (limits != null) {
            out.println(limits.describe());
        }
        out.println("GEMM paths: " + gemmLine);
        for (Precision p : options.precisions()) {
            for (String family : FAMILIES) {
                if (!options.families().contains(family)) {
                    continue;
                }
                for (Case c : cases(family, p)) {
                    if (options.validate()) {
                        validate(c, p);
                    }
                }
                if (options.bench()) {
                    for (Case c : cases(family, p)) {
                        if (c.benchSize != null) {
                            bench(c, p);
                        }
                    }
                }
            }
        }
        if (options.validate()) {
            out.printf(Locale.ROOT, "validation: %d cases, %d failed%n", cases, failed);
        }
        out.flush();
        return new Outcome(cases, failed, benchmarks);
    }

    // ---- the cases ---------------------------------------------------------------------------------------------

    /** The inputs and output buffers of one run; {@code size} is the case's own shape. */
    private interface Inputs {
        double[][] make(int[] size, SplittableRandom rng);
    }

    private interface Body {
        void run(Backend b, Buffer[] v, int[] size);
    }

    /** Per-output bounds: rtol, then atol per element (length 1: one value for all). */
    private interface Bounds {
        double[][] of(Precision p, int[] size, double[][] in, int output);
    }

    /** Minimal bytes moved (or flops, for GEMM) per run of one size. */
    private interface Work {
        double of(int[] size, int elementBytes);
    }

    /** One operation of a family: its awkward validation sizes, its benchmark size, and how to run and judge it. */
    private static final class Case {
        final String family;
        final String name;
        final GemmChoice.Kind gemm; // the GEMM path (GEMM cases), else null
        final List<int[]> validateSizes;
        final int[] benchSize;
        final Inputs inputs;
        final int[] outputs;
        final Body body;
        final Bounds bounds;
        final Work work;
        final boolean flops;

        Case(String family, String name, GemmChoice.Kind gemm, List<int[]> validateSizes, int[] benchSize,
             Inputs inputs, int[] outputs, Body body, Bounds bounds, Work work, boolean flops) {
            this.family = family;
            this.name = name;
            this.gemm = gemm;
            this.validateSizes = validateSizes;
            this.benchSize = benchSize;
            this.inputs = inputs;
            this.outputs = outputs;
            this.body = body;
            this.bounds = bounds;
            this.work = work;
            this.flops = flops;
        }
    }

    private static double u(Precision p) {
        return p == Precision.FLOAT64 ? 0x1p-53 : 0x1p-24;
    }

    private static double[][] uniform(Precision p, double ulps) {
        double t = ulps * u(p);
        return new double[][] {{t}, {t}};
    }

    private static double[] random(SplittableRandom rng, int n, double scale, double shift) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rng.nextDouble() * 2 - 1) * scale + shift;
        }
        return x;
    }

    private static double[] nan(int n) {
        double[] x = new double[n];
        Arrays.fill(x, Double.NaN);
        return x;
    }

    private static double[] indices(SplittableRandom rng, int n, int limit) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = rng.nextInt(limit);
        }
        return x;
    }

    private static int[] s(int... v) {
        return v;
    }

    private List<Case> cases(String family, Precision p) {
        List<Case> list = new ArrayList<>();
        double tr = p == Precision.FLOAT64 ? 8 : 128; // exp/tanh kernels: docs/parity.md
        boolean f64 = p == Precision.FLOAT64;
        switch (family) {
            case "elementwise" -> {
                list.add(new Case(family, "sigmoid_forward", null,
                        List.of(s(1), s(7), s(255), s(256), s(257), s(65_537), s(1_000_003)), s(32 << 20 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0], 30, 0), nan(z[0])}, s(1),
                        (b, v, z) -> b.sigmoidForward(v[0], v[1]), (q, z, in, o) -> uniform(q, tr),
                        (z, e) -> 2.0 * z[0] * e, false));
                list.add(new Case(family, "standard_lstm_forward", null,
                        List.of(s(1, 1), s(3, 5), s(9, 257), s(64, 300)), s(1024, 4096 >> (f64 ? 1 : 0)),
                        (z, r) -> {
                            int g = 4 * z[0] * z[1];
                            int n = z[0] * z[1];
                            return new double[][] {random(r, g, 4, 0), random(r, 4 * z[1], 1, 0),
                                    random(r, 4 * z[1], 1, 0), random(r, n, 2, 0), nan(g), nan(n), nan(n)};
                        }, s(4, 5, 6),
                        (b, v, z) -> b.standardLstmCellForward(z[0], z[1], v[0], v[1], v[2], v[3], v[4], v[5], v[6]),
                        (q, z, in, o) -> uniform(q, tr),
                        (z, e) -> (4.0 * z[0] * z[1] * 2 + 8.0 * z[1] + 3.0 * z[0] * z[1]) * e, false));
                list.add(new Case(family, "standard_lstm_backward", null,
                        List.of(s(1, 1), s(3, 5), s(9, 257), s(64, 300)), s(1024, 4096 >> (f64 ? 1 : 0)),
                        (z, r) -> {
                            int g = 4 * z[0] * z[1];
                            int n = z[0] * z[1];
                            return new double[][] {random(r, g, 0.5, 0.5), random(r, n, 2, 0), random(r, n, 2, 0),
                                    random(r, n, 1, 0), random(r, n, 1, 0), nan(g), nan(n)};
                        }, s(5, 6),
                        (b, v, z) -> b.standardLstmCellBackward(z[0], z[1], v[0], v[1], v[2], v[3], v[4], v[5], v[6]),
                        (q, z, in, o) -> uniform(q, tr),
                        (z, e) -> (4.0 * z[0] * z[1] * 2 + 5.0 * z[0] * z[1]) * e, false));
            }
            case "reduction" -> {
                list.add(new Case(family, "sum_rows", null,
                        List.of(s(1, 1), s(7, 3), s(1000, 257), s(4099, 33)), s(65_536, 1024 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0] * z[1], 1, 0), nan(z[1])}, s(1),
                        (b, v, z) -> b.sumRows(z[0], z[1], v[0], v[1], false),
                        (q, z, in, o) -> new double[][] {{0}, {2.0 * (z[0] + 2) * u(q) * z[0]}},
                        (z, e) -> ((double) z[0] * z[1] + z[1]) * e, false));
                list.add(new Case(family, "l2_norm", null,
                        List.of(s(1), s(4097), s(70_001), s(1_000_003)), s(64 << 20 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0], 3, 0), nan(1)}, s(1),
                        (b, v, z) -> b.l2Norm(v[0], v[1]), (q, z, in, o) -> new double[][] {{0}, {0}},
                        (z, e) -> (double) z[0] * e, false));
                list.add(new Case(family, "mse_forward", null,
                        List.of(s(1), s(4097), s(70_001), s(1_000_003)), s(32 << 20 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0], 3, 0), random(r, z[0], 3, 0), nan(1)}, s(2),
                        (b, v, z) -> b.mseForward(v[0], v[1], v[2]), (q, z, in, o) -> new double[][] {{0}, {0}},
                        (z, e) -> 2.0 * z[0] * e, false));
                list.add(new Case(family, "cross_entropy_forward", null,
                        List.of(s(1, 1), s(7, 33), s(257, 300), s(64, 5000)), s(8192, 8192 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0] * z[1], 8, 0), indices(r, z[0], z[1]), nan(z[0])},
                        s(2), (b, v, z) -> b.crossEntropyForward(z[0], z[1], v[0], v[1], v[2], false),
                        (q, z, in, o) -> new double[][] {{8 * u(q)}, {(z[1] + 8) * 8 * u(q)}},
                        (z, e) -> ((double) z[0] * z[1] + 2.0 * z[0]) * e, false));
                list.add(new Case(family, "cross_entropy_backward", null,
                        List.of(s(1, 1), s(7, 33), s(257, 300), s(64, 5000)), s(8192, 8192 >> (f64 ? 1 : 0)),
                        (z, r) -> new double[][] {random(r, z[0] * z[1], 8, 0), indices(r, z[0], z[1]),
                                nan(z[0] * z[1])}, s(2),
                        (b, v, z) -> b.crossEntropyBackward(z[0], z[1], v[0], v[1], 1.0 / z[0], v[2]),
                        (q, z, in, o) -> new double[][] {{8 * u(q)}, {(z[1] + 8) * 8 * u(q) / z[0]}},
                        (z, e) -> (2.0 * z[0] * z[1] + z[0]) * e, false));
            }
            case "gemm" -> {
                List<GemmChoice.Kind> kinds = gemmPaths;
                int big = f64 && options.quick() ? 2048 : 4096;
                for (GemmChoice.Kind kind : kinds) {
                    List<int[]> sizes = new ArrayList<>();
                    for (int[] mnk : new int[][] {{1, 1, 1}, {7, 65, 127}, {64, 300, 7}, {65, 1, 300}, {127, 127, 0},
                            {300, 64, 65}}) {
                        for (int t = 0; t < 4; t++) {
                            sizes.add(s(mnk[0], mnk[1], mnk[2], t & 1, t >> 1));
                        }
                    }
                    list.add(new Case(family, "gemm_" + kind.name().toLowerCase(Locale.ROOT), kind, sizes,
                            s(big, big, big, 0, 0),
                            (z, r) -> new double[][] {random(r, z[0] * z[2], 1, 0), random(r, z[2] * z[1], 1, 0),
                                    random(r, z[0] * z[1], 1, 0)}, s(2),
                            (b, v, z) -> b.gemm(z[3] == 1, z[4] == 1, z[0], z[1], z[2], 0.75, v[0],
                                    Math.max(1, z[3] == 1 ? z[0] : z[2]), v[1], Math.max(1, z[4] == 1 ? z[2] : z[1]),
                                    z[0] * z[1] % 2 == 0 ? 0.5 : 0, v[2], z[1]),
                            KernelHarness::gemmBounds, (z, e) -> 2.0 * z[0] * z[1] * z[2], true));
                }
            }
            case "optimizer" -> list.add(new Case(family, "adam_update", null,
                    List.of(s(1), s(257), s(70_001)), s(16 << 20 >> (f64 ? 1 : 0)),
                    (z, r) -> new double[][] {random(r, z[0], 1, 0), random(r, z[0], 2, 0), random(r, z[0], 0.1, 0),
                            random(r, z[0], 0.01, 0.01), new double[] {3}}, s(0, 2, 3, 4),
                    (b, v, z) -> b.adamUpdate(v[0], v[1], v[2], v[3], v[4], 1e-3, 0.9, 0.999, 1e-8, 0.01),
                    (q, z, in, o) -> uniform(q, 64), (z, e) -> 7.0 * z[0] * e, false));
            default -> throw new IllegalArgumentException("unknown family " + family);
        }
        return list;
    }

    /** GEMM: per element {@code 2 (k + 2) u (|alpha| sum_p |a_ip b_pj| + |beta c_ij|)} (Higham, sec. 3.1). */
    private static double[][] gemmBounds(Precision p, int[] z, double[][] in, int output) {
        int m = z[0];
        int n = z[1];
        int k = z[2];
        boolean ta = z[3] == 1;
        boolean tb = z[4] == 1;
        double beta = m * n % 2 == 0 ? 0.5 : 0;
        double[] atol = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int q = 0; q < k; q++) {
                    double a = ta ? in[0][q * m + i] : in[0][i * k + q];
                    double b = tb ? in[1][j * k + q] : in[1][q * n + j];
                    sum += Math.abs(a * b);
                }
                atol[i * n + j] = 2 * (k + 2) * u(p) * (0.75 * sum + Math.abs(beta * in[2][i * n + j]));
            }
        }
        return new double[][] {{0}, atol};
    }

    // ---- validation ----------------------------------------------------------------------------------------------

    private Backend cuda(Case c, Precision p) {
        return candidate.apply(p, c.gemm);
    }

    private void validate(Case c, Precision p) {
        try (Backend ref = new CpuBackendProvider().create(p); Backend got = cuda(c, p)) {
            for (int[] size : c.validateSizes) {
                cases++;
                SplittableRandom rng = new SplittableRandom(Arrays.hashCode(size) * 31L + c.name.hashCode());
                double[][] data = c.inputs.make(size, rng);
                double[][] want = runOn(ref, c, data, size);
                double[][] have = runOn(got, c, data, size);
                List<String> shown = new ArrayList<>();
                int bad = 0;
                int total = 0;
                for (int k = 0; k < c.outputs.length; k++) {
                    int o = c.outputs[k];
                    double[][] b = c.bounds.of(p, size, data, o);
                    double rtol = b[0][0];
                    double[] atol = b[1];
                    for (int i = 0; i < want[k].length; i++) {
                        total++;
                        double w = want[k][i];
                        double g = have[k][i];
                        double a = atol.length == 1 ? atol[0] : atol[i];
                        double d = Math.abs(g - w);
                        boolean ok = Double.doubleToLongBits(g) == Double.doubleToLongBits(w)
                                || (Double.isNaN(g) && Double.isNaN(w)) || d <= a + rtol * Math.abs(w);
                        if (!ok) {
                            if (shown.size() < SHOW) {
                                shown.add(String.format(Locale.ROOT, "    output %d [%d]: got %.17g, want %.17g, "
                                        + "|diff| %.3g > %.3g", o, i, g, w, d, a + rtol * Math.abs(w)));
                            }
                            bad++;
                        }
                    }
                }
                String what = String.format(Locale.ROOT, "validate %-7s %-11s %-22s %-18s", label(p), c.family,
                        c.name, Arrays.toString(size).replace(" ", ""));
                if (bad == 0) {
                    out.println(what + " ok (" + total + " values)");
                } else {
                    failed++;
                    out.println(what + " MISMATCH: " + bad + " of " + total + " values; first " + shown.size() + ":");
                    shown.forEach(out::println);
                }
                out.flush();
            }
        }
    }

    private static String label(Precision p) {
        return p == Precision.FLOAT64 ? "float64" : "float32";
    }

    /** Uploads the data, runs the body, returns the outputs. */
    private static double[][] runOn(Backend b, Case c, double[][] data, int[] size) {
        Buffer[] v = new Buffer[data.length];
        try {
            for (int i = 0; i < data.length; i++) {
                v[i] = b.allocate(Math.max(1, data[i].length));
                if (data[i].length > 0) {
                    b.upload(data[i], v[i]);
                }
            }
            c.body.run(b, v, size);
            double[][] outs = new double[c.outputs.length][];
            for (int k = 0; k < c.outputs.length; k++) {
                outs[k] = data[c.outputs[k]].length == 0 ? new double[0] : b.download(v[c.outputs[k]]);
            }
            return outs;
        } finally {
            for (Buffer x : v) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }

    // ---- benchmark -----------------------------------------------------------------------------------------------

    private void bench(Case c, Precision p) {
        int[] size = c.benchSize.clone();
        size[0] = Math.max(1, size[0] >> benchShift);
        int e = p == Precision.FLOAT64 ? 8 : 4;
        try (Backend b = cuda(c, p)) {
            double[][] data = c.inputs.make(size, new SplittableRandom(7));
            Buffer[] v = new Buffer[data.length];
            try {
                for (int i = 0; i < data.length; i++) {
                    v[i] = b.allocate(data[i].length);
                    b.upload(data[i], v[i]);
                }
                data = null; // the host copies may go
                c.body.run(b, v, size); // warm-up
                b.synchronize();
                int reps = 1;
                double seconds;
                long budget = options.quick() ? 100_000_000L : 400_000_000L; // ns of timed launches, about
                while (true) {
                    long t0 = System.nanoTime();
                    for (int r = 0; r < reps; r++) {
                        c.body.run(b, v, size);
                    }
                    b.synchronize();
                    long t = System.nanoTime() - t0;
                    if (t >= budget || reps >= 1 << 12) {
                        seconds = t / 1e9 / reps;
                        break;
                    }
                    reps = (int) Math.min(1 << 12, Math.max(reps * 2L, (long) (reps * 1.2 * budget / Math.max(t, 1))));
                }
                double work = c.work.of(size, e);
                String reached;
                if (c.flops) {
                    double peak = limits == null ? Double.NaN : limits.peakFlops(p == Precision.FLOAT64);
                    reached = String.format(Locale.ROOT, "%s of a %s peak (%s)",
                            DeviceLimits.rate(work / seconds, "TFLOP/s", 1e12),
                            DeviceLimits.rate(peak, "TFLOP/s", 1e12), percent(work / seconds, peak));
                } else {
                    double peak = limits == null ? Double.NaN : limits.bandwidth();
                    reached = String.format(Locale.ROOT, "%s of %s peak bandwidth (%s)",
                            DeviceLimits.rate(work / seconds, "GB/s", 1e9), DeviceLimits.rate(peak, "GB/s", 1e9),
                            percent(work / seconds, peak));
                }
                benchmarks++;
                out.printf(Locale.ROOT, "bench    %-7s %-11s %-22s %-18s %9.3f ms  %s  (%d runs)%n", label(p),
                        c.family, c.name, Arrays.toString(size).replace(" ", ""), seconds * 1e3, reached, reps);
                out.flush();
            } finally {
                for (Buffer x : v) {
                    if (x != null) {
                        x.close();
                    }
                }
            }
        }
    }

    private static String percent(double v, double peak) {
        return Double.isNaN(peak) ? "no peak known" : String.format(Locale.ROOT, "%.0f%%", 100 * v / peak);
    }
}
