package org.rnn4j.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.rnn4j.backend.BackendProvider;

/**
 * Turns a JMH JSON result file into {@code REPORT.md} and PNG charts.
 *
 * <pre>
 *   Report JMH_JSON OUT_DIR [--command "the command that produced the JSON"]
 * </pre>
 *
 * <p>The report gives the machine, the git commit, the date and the command; one table per benchmark with its
 * parameters and JMH's score and error as JMH gives them (several entries with the same parameters are reduced to
 * their medians, and the table says how many); for training benchmarks also iterations per second, for GEMM GFLOP/s,
 * and for every result on a device backend the device-over-host speedup: the {@code cpu} time per operation at the
 * same parameters divided by the device's. Charts: throughput by size per backend, and the speedup by size where
 * device results exist; otherwise the report says that the GPU half is unmeasured here and why.
 */
public final class Report {

    /** Benchmarks whose operation is one training iteration, with the parameter that is their size on the charts. */
    public static final Map<String, String> TRAINING_BENCHMARKS = Map.of("RnnTrainingBench.trainIteration", "hidden",
            "LstmTrainingBench.trainIteration", "size");

    /** The GEMM benchmark: GFLOP/s from its {@code shape}; squares are charted by size. */
    public static final String GEMM_BENCHMARK = "GemmBench.gemm";

    /** The host backend, the reference of the speedups. */
    public static final String HOST = "cpu";

    /** Whether the GPU backend is usable where the report was made, why (not), and what the probe found. */
    public record GpuStatus(boolean usable, String reason, List<String> details) {
        public GpuStatus {
            details = List.copyOf(details);
        }
    }

    /**
     * What the report says about where and how the results were made.
     *
     * @param machine lines about the machine (CPU, cores, memory, OS, JVM)
     */
    public record Environment(String date, String gitCommit, String command, List<String> machine, GpuStatus gpu) {
        public Environment {
            machine = List.copyOf(machine);
        }

        /** Probes this machine: /proc/cpuinfo, /proc/meminfo, /etc/os-release, the JVM, git, the CUDA backend. */
        public static Environment probe(String command) {
            List<String> machine = new ArrayList<>();
            String cpu = firstValue(Path.of("/proc/cpuinfo"), "model name", ':').orElse("unknown (no model name in /proc/cpuinfo)");
            machine.add("CPU: " + cpu + ", " + Runtime.getRuntime().availableProcessors()
                    + " logical cores available to the JVM");
            firstValue(Path.of("/proc/meminfo"), "MemTotal", ':').ifPresent(m -> machine.add("Memory: " + m));
            String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                    + System.getProperty("os.arch");
            Optional<String> pretty = firstValue(Path.of("/etc/os-release"), "PRETTY_NAME", '=');
            machine.add("OS: " + pretty.map(p -> p.replace("\"", "") + " (" + os + ")").orElse(os));
            firstLine(Path.of("/proc/loadavg")).ifPresent(l -> machine.add("Load average (1, 5, 15 min) when the report "
                    + "was written, right after the run: " + String.join(" ", Arrays.asList(l.split("\\s+")).subList(0, 3))
                    + " (other work on the machine during the run skews the results)"));
            machine.add("JVM (report): " + System.getProperty("java.vm.name") + " "
                    + System.getProperty("java.runtime.version"));
            GpuStatus gpu = BenchBackends.provider("cuda")
                    .map(p -> {
                        BackendProvider.Availability a = p.availability();
                        return new GpuStatus(a.usable(), a.reason(), a.details());
                    })
                    .orElse(new GpuStatus(false, "this build has no cuda backend", List.of()));
            return new Environment(ZonedDateTime.now().truncatedTo(ChronoUnit.SECONDS)
                    .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Report.gitCommit(), command, machine, gpu);
        }

        /**
         * The machine the benchmarks ran on, as the device check recorded it there ({@code environment.txt}), for a
         * report written on another machine. One {@code key=value} per line: {@code date}, {@code commit},
         * {@code machine} (repeated, one entry each), {@code gpu.usable} ({@code true}/{@code false}),
         * {@code gpu.reason}, {@code gpu.detail} (repeated); other keys and lines without {@code =} are ignored.
         */
        public static Environment read(Path file, String command) throws IOException {
            String date = "not recorded";
            String commit = "not recorded";
            List<String> machine = new ArrayList<>();
            boolean usable = false;
            String reason = "not recorded";
            List<String> details = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String v = line.substring(eq + 1).trim();
                switch (line.substring(0, eq).trim()) {
                    case "date" -> date = v;
                    case "commit" -> commit = v;
                    case "machine" -> machine.add(v);
                    case "gpu.usable" -> usable = v.equals("true");
                    case "gpu.reason" -> reason = v;
                    case "gpu.detail" -> details.add(v);
                    default -> { }
                }
            }
            machine.add("Report written elsewhere, from the recorded results, by " + System.getProperty("java.vm.name")
                    + " " + System.getProperty("java.runtime.version"));
            return new Environment(date, commit, command, machine, new GpuStatus(usable, reason, details));
        }
    }

    /** One table row: a benchmark at one set of parameters; several entries are reduced to their medians. */
    public record Row(String benchmark, Map<String, String> params, String mode, double score, double error,
                      String unit, int runs, double speedup) {

        public double secondsPerOp() {
            return JmhResult.secondsPerOp(score, unit);
        }

        public String backend() {
            return params.getOrDefault("backend", "");
        }

        String shortName() {
            String[] parts = benchmark.split("\\.");
            return parts.length < 2 ? benchmark : parts[parts.length - 2] + "." + parts[parts.length - 1];
        }
    }

    private Report() {
    }

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true");
        String command = null;
        Path environment = null;
        List<String> positional = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--command")) {
                if (i + 1 >= args.length) {
                    usage("--command needs a value");
                }
                command = args[++i];
            } else if (args[i].startsWith("--command=")) {
                command = args[i].substring("--command=".length());
            } else if (args[i].equals("--environment")) {
                if (i + 1 >= args.length) {
                    usage("--environment needs a file");
                }
                environment = Path.of(args[++i]);
            } else if (args[i].startsWith("--")) {
                usage("unknown option " + args[i]);
            } else {
                positional.add(args[i]);
            }
        }
        if (positional.size() < 2) {
            usage("expected JMH_JSON... and OUT_DIR");
        }
        Path out = Path.of(positional.get(positional.size() - 1));
        List<JmhResult> results = new ArrayList<>();
        for (String json : positional.subList(0, positional.size() - 1)) {
            results.addAll(JmhResult.parse(Path.of(json)));
        }
        if (environment != null && !Files.isRegularFile(environment)) {
            usage("--environment: no such file: " + environment);
        }
        Environment env = environment == null ? Environment.probe(command) : Environment.read(environment, command);
        List<Path> written = write(results, env, out);
        for (Path p : written) {
            System.out.println("wrote " + p);
        }
    }

    private static void usage(String why) {
        System.err.println("Report: " + why);
        System.err.println("usage: Report JMH_JSON... OUT_DIR [--command \"...\"] [--environment FILE]");
        System.exit(2);
    }

    /** Rows for every distinct (benchmark, parameters), medians over duplicates, with speedups, sorted. */
    public static List<Row> rows(List<JmhResult> results) {
        Map<String, List<JmhResult>> groups = new LinkedHashMap<>();
        for (JmhResult r : results) {
            groups.computeIfAbsent(r.benchmark() + "|" + r.mode() + "|" + new TreeMap<>(r.params()) + "|" + r.unit(),
                    k -> new ArrayList<>()).add(r);
        }
        List<Row> plain = new ArrayList<>();
        for (List<JmhResult> g : groups.values()) {
            JmhResult first = g.get(0);
            plain.add(new Row(first.benchmark(), first.params(), first.mode(),
                    median(g.stream().mapToDouble(JmhResult::score).toArray()),
                    median(g.stream().mapToDouble(JmhResult::error).toArray()), first.unit(), g.size(), Double.NaN));
        }
        List<Row> rows = new ArrayList<>();
        for (Row r : plain) {
            double speedup = Double.NaN;
            if (!r.backend().isEmpty() && !r.backend().equals(HOST)) {
                Optional<Row> host = plain.stream().filter(h -> isHostOf(h, r)).findFirst();
                if (host.isPresent()) {
                    speedup = host.get().secondsPerOp() / r.secondsPerOp();
                }
            }
            rows.add(new Row(r.benchmark(), r.params(), r.mode(), r.score(), r.error(), r.unit(), r.runs(), speedup));
        }
        rows.sort(ROW_ORDER);
        return rows;
    }

    /** Whether {@code host} is the cpu result at the same parameters as {@code device} (cpu has one GEMM path). */
    static boolean isHostOf(Row host, Row device) {
        if (!host.benchmark().equals(device.benchmark()) || !host.backend().equals(HOST)
                || !host.mode().equals(device.mode())) {
            return false;
        }
        if (!host.params().getOrDefault("gemmPath", BenchBackends.PATH_DEFAULT).equals(BenchBackends.PATH_DEFAULT)) {
            return false;
        }
        return withoutBackend(host.params()).equals(withoutBackend(device.params()));
    }

    private static Map<String, String> withoutBackend(Map<String, String> params) {
        Map<String, String> m = new TreeMap<>(params);
        m.remove("backend");
        m.remove("gemmPath");
        return m;
    }

    /** Parameters in the order of the tables' columns and of sorting: these first, then the others as JMH gives them. */
    static final List<String> PARAM_ORDER = List.of("backend", "hidden", "batch", "shape", "precision", "gemmPath");

    static List<String> paramOrder(List<Row> rows) {
        Set<String> all = new LinkedHashSet<>();
        rows.forEach(r -> all.addAll(r.params().keySet()));
        List<String> keys = new ArrayList<>();
        PARAM_ORDER.stream().filter(all::contains).forEach(keys::add);
        all.stream().filter(k -> !keys.contains(k)).forEach(keys::add);
        return keys;
    }

    private static final Comparator<Row> ROW_ORDER = (x, y) -> {
        int c = x.benchmark().compareTo(y.benchmark());
        if (c != 0) {
            return c;
        }
        c = backendRank(x.backend()).compareTo(backendRank(y.backend()));
        if (c != 0) {
            return c;
        }
        for (String key : paramOrder(List.of(x, y))) {
            c = compareValues(x.params().getOrDefault(key, ""), y.params().getOrDefault(key, ""));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    };

    private static String backendRank(String backend) {
        return (backend.equals(HOST) ? "0" : "1") + backend;
    }

    /** Numbers in numeric order and before words; words alphabetically. */
    static int compareValues(String a, String b) {
        Double x = asNumber(a);
        Double y = asNumber(b);
        if (x != null && y != null) {
            return Double.compare(x, y);
        }
        if (x != null) {
            return -1;
        }
        if (y != null) {
            return 1;
        }
        return a.compareTo(b);
    }

    private static Double asNumber(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        if (v.length == 0) {
            return Double.NaN;
        }
        int mid = v.length / 2;
        return v.length % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    }

    /** Training iterations per second, GEMM GFLOP/s, or NaN for other benchmarks. */
    static double throughput(Row r) {
        String name = r.shortName();
        if (TRAINING_BENCHMARKS.containsKey(name)) {
            return 1 / r.secondsPerOp();
        }
        if (name.equals(GEMM_BENCHMARK) && r.params().containsKey("shape")) {
            return GemmShape.parse(r.params().get("shape")).flops() / r.secondsPerOp() / 1e9;
        }
        return Double.NaN;
    }

    /** Writes {@code REPORT.md} and the charts into {@code outDir}; returns the files written. */
    public static List<Path> write(List<JmhResult> results, Environment env, Path outDir) throws IOException {
        Files.createDirectories(outDir);
        List<Row> rows = rows(results);
        List<Path> written = new ArrayList<>();
        StringBuilder md = new StringBuilder();
        md.append("# rnn4j benchmarks\n\n");
        md.append("- Date: ").append(env.date()).append('\n');
        md.append("- Commit: ").append(env.gitCommit()).append('\n');
        md.append("- Command: ").append(env.command() == null ? "not recorded" : "`" + env.command() + "`")
                .append('\n');
        md.append("\n## Machine\n\n");
        env.machine().forEach(l -> md.append("- ").append(l).append('\n'));
        md.append("- GPU (cuda backend): ").append(env.gpu().usable() ? "usable: " : "not usable: ")
                .append(env.gpu().reason()).append('\n');
        env.gpu().details().forEach(d -> md.append("  - ").append(d).append('\n'));
        if (!results.isEmpty()) {
            Map<String, String> run = results.get(0).run();
            md.append("\n## JMH run\n\n");
            md.append("- JMH ").append(run.getOrDefault("jmhVersion", "?")).append(", benchmarks' JVM: ")
                    .append(run.getOrDefault("vmName", "?")).append(' ')
                    .append(run.getOrDefault("jdkVersion", "?")).append(" (").append(run.getOrDefault("vmVersion", "?"))
                    .append(")\n");
            md.append("- Warmup ").append(run.getOrDefault("warmupIterations", "?")).append(" x ")
                    .append(run.getOrDefault("warmupTime", "?")).append(", measurement ")
                    .append(run.getOrDefault("measurementIterations", "?")).append(" x ")
                    .append(run.getOrDefault("measurementTime", "?")).append(", forks ")
                    .append(run.getOrDefault("forks", "?")).append(", threads ").append(run.getOrDefault("threads", "?"))
                    .append('\n');
            if (!run.getOrDefault("jvmArgs", "").isEmpty()) {
                md.append("- JVM arguments: `").append(run.get("jvmArgs")).append("`\n");
            }
            md.append("- Score and error are JMH's (error: half-width of its 99.9% confidence interval; NaN where a "
                    + "single measurement iteration gives none). Speedup = cpu time per operation / device time per "
                    + "operation at the same parameters (> 1: the device is faster).\n");
        }

        boolean anyDevice = rows.stream().anyMatch(r -> !r.backend().isEmpty() && !r.backend().equals(HOST));
        if (!anyDevice) {
            md.append("\n**The GPU half is unmeasured here**: these results hold no cuda backend runs, ")
                    .append(env.gpu().usable()
                            ? "although the cuda backend is usable on this machine (" + env.gpu().reason()
                                    + "); run with `-p backend=cpu,cuda` (bench/run.sh does)."
                            : "because the cuda backend cannot run on this machine: " + env.gpu().reason() + ".")
                    .append(" No device-over-host speedup is given.\n");
        }

        Map<String, List<Row>> byBenchmark = new LinkedHashMap<>();
        rows.forEach(r -> byBenchmark.computeIfAbsent(r.benchmark(), k -> new ArrayList<>()).add(r));
        for (Map.Entry<String, List<Row>> e : byBenchmark.entrySet()) {
            List<Row> rs = e.getValue();
            String name = rs.get(0).shortName();
            md.append("\n## ").append(name).append("\n\n");
            md.append(describe(name)).append("\n\n");
            table(md, name, rs);
            String className = name.substring(0, name.indexOf('.') < 0 ? name.length() : name.indexOf('.'));
            Optional<String> sizeParam = sizeParam(name);
            if (sizeParam.isPresent()) {
                String label = TRAINING_BENCHMARKS.containsKey(name) ? "training iterations/s" : "GFLOP/s";
                String xTitle = name.equals(GEMM_BENCHMARK) ? "size N (an N x N x N GEMM)" : sizeParam.get();
                List<Row> charted = rs.stream().filter(r -> asNumber(r.params().getOrDefault(sizeParam.get(), "x")) != null)
                        .filter(r -> Double.isFinite(throughput(r))).collect(Collectors.toList());
                if (!charted.isEmpty()) {
                    Path png = outDir.resolve(className + "-throughput.png");
                    chart(charted, sizeParam.get(), Report::throughput, List.of(sizeParam.get()),
                            name + ": " + label + " by " + sizeParam.get() + " (log scale)", xTitle, label, true, png);
                    written.add(png);
                    md.append("\n![").append(name).append(" throughput](").append(png.getFileName()).append(")\n");
                }
                List<Row> speedups = charted.stream().filter(r -> Double.isFinite(r.speedup()))
                        .collect(Collectors.toList());
                if (!speedups.isEmpty()) {
                    Path png = outDir.resolve(className + "-speedup.png");
                    chart(speedups, sizeParam.get(), Row::speedup, List.of(sizeParam.get()),
                            name + ": device-over-host speedup (cpu time / device time) by " + sizeParam.get(),
                            xTitle, "speedup (x, log scale)", true, png);
                    written.add(png);
                    md.append("\n![").append(name).append(" speedup](").append(png.getFileName()).append(")\n");
                } else if (rs.stream().anyMatch(r -> r.params().containsKey("backend"))) {
                    md.append("\nNo speedup chart: ").append(anyDevice
                            ? "no device result here has a cpu result at the same parameters."
                            : "the GPU half is unmeasured here (" + env.gpu().reason() + ").").append('\n');
                }
            }
        }
        Path report = outDir.resolve("REPORT.md");
        Files.writeString(report, md.toString(), StandardCharsets.UTF_8);
        written.add(0, report);
        return written;
    }

    private static String describe(String name) {
        if (name.equals("RnnTrainingBench.trainIteration")) {
            return "One training iteration of the binary-addition RNN: `batch` problems drawn, loaded, forward, "
                    + "backward through 8 steps and an SGD step (learning rate 0.1/batch), ending with the backend's "
                    + "synchronize.";
        }
        if (name.equals(GEMM_BENCHMARK)) {
            return "One `Backend.gemm` call, C = A * op(B), alpha 1, beta 0, followed by synchronize. Shapes are "
                    + "m x n x k; `lstm` is the LSTM step's GEMM (64 x 1024 x 256, B transposed). GFLOP/s = 2mnk / "
                    + "time.";
        }
        return "JMH results as given.";
    }

    private static Optional<String> sizeParam(String name) {
        if (TRAINING_BENCHMARKS.containsKey(name)) {
            return Optional.of(TRAINING_BENCHMARKS.get(name));
        }
        if (name.equals(GEMM_BENCHMARK)) {
            return Optional.of("shape");
        }
        return Optional.empty();
    }

    private static void table(StringBuilder md, String name, List<Row> rs) {
        List<String> keys = paramOrder(rs);
        boolean training = TRAINING_BENCHMARKS.containsKey(name);
        boolean gemm = name.equals(GEMM_BENCHMARK);
        boolean hasBackend = keys.contains("backend");
        boolean aggregated = rs.stream().anyMatch(r -> r.runs() > 1);
        List<String> head = new ArrayList<>();
        for (String k : keys) {
            head.add(k);
            if (gemm && k.equals("shape")) {
                head.add("m x n x k");
            }
        }
        head.addAll(List.of("mode", "score", "error", "unit"));
        if (aggregated) {
            head.add("entries (median of)");
        }
        if (training) {
            head.add("iterations/s");
        }
        if (gemm) {
            head.add("GFLOP/s");
        }
        if (hasBackend) {
            head.add("speedup (cpu / this)");
        }
        md.append("| ").append(String.join(" | ", head)).append(" |\n|");
        head.forEach(h -> md.append("---|"));
        md.append('\n');
        for (Row r : rs) {
            List<String> cells = new ArrayList<>();
            for (String k : keys) {
                cells.add(r.params().getOrDefault(k, ""));
                if (gemm && k.equals("shape")) {
                    cells.add(shapeText(r.params().get("shape")));
                }
            }
            cells.add(r.mode());
            cells.add(sig(r.score(), 5));
            cells.add(sig(r.error(), 5));
            cells.add(r.unit());
            if (aggregated) {
                cells.add(String.valueOf(r.runs()));
            }
            if (training || gemm) {
                cells.add(sig(throughput(r), 4));
            }
            if (hasBackend) {
                cells.add(Double.isFinite(r.speedup()) ? sig(r.speedup(), 3) + "x" : "—");
            }
            md.append("| ").append(String.join(" | ", cells)).append(" |\n");
        }
    }

    private static String shapeText(String shape) {
        try {
            return GemmShape.parse(shape).describe();
        } catch (IllegalArgumentException | NullPointerException e) {
            return "?";
        }
    }

    /** {@code x} to {@code digits} significant digits, plain; {@code NaN} as such. */
    static String sig(double x, int digits) {
        if (!Double.isFinite(x)) {
            return Double.isNaN(x) ? "NaN" : (x > 0 ? "inf" : "-inf");
        }
        if (x == 0) {
            return "0";
        }
        BigDecimal d = new BigDecimal(x).round(new MathContext(digits)).stripTrailingZeros();
        double abs = Math.abs(x);
        return abs >= 1e9 || abs < 1e-6 ? String.format(Locale.ROOT, "%." + (digits - 1) + "e", x) : d.toPlainString();
    }

    /**
     * A line chart with the size parameter's values as categories on x and one series per backend and the other
     * parameters that vary, log scale on y.
     */
    static void chart(List<Row> rows, String sizeParam, ToDoubleFunction<Row> y, List<String> exclude, String title,
                      String xTitle, String yTitle, boolean logY, Path png) throws IOException {
        List<String> sizes = rows.stream().map(r -> r.params().get(sizeParam)).distinct()
                .sorted(Report::compareValues).collect(Collectors.toList());
        // Parameters that vary among the rows name the series; constant ones would only clutter the legend.
        List<String> varying = new ArrayList<>();
        for (String key : paramOrder(rows)) {
            if (key.equals(sizeParam) || exclude.contains(key) || key.equals("backend")) {
                continue;
            }
            if (rows.stream().map(r -> r.params().getOrDefault(key, "")).distinct().count() > 1) {
                varying.add(key);
            }
        }
        // Series in the order of their parameters (the host first, numbers numerically), not of their names.
        List<Row> ordered = new ArrayList<>(rows);
        ordered.sort((a, b) -> {
            int c = backendRank(a.backend()).compareTo(backendRank(b.backend()));
            for (int i = 0; c == 0 && i < varying.size(); i++) {
                c = compareValues(a.params().getOrDefault(varying.get(i), ""), b.params().getOrDefault(varying.get(i), ""));
            }
            return c;
        });
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        for (Row r : ordered) {
            double v = y.applyAsDouble(r);
            if (v > 0 && Double.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            StringBuilder name = new StringBuilder(r.backend().isEmpty() ? "" : r.backend());
            for (String k : varying) {
                name.append(name.length() == 0 ? "" : " ").append(k).append('=').append(r.params().get(k));
            }
            series.computeIfAbsent(name.length() == 0 ? "result" : name.toString(), k -> new LinkedHashMap<>())
                    .put(r.params().get(sizeParam), v);
        }
        CategoryChart chart = new CategoryChartBuilder().width(900).height(560).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        Styler st = chart.getStyler();
        chart.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        chart.getStyler().setYAxisLogarithmic(logY);
        // Labels at 2, 3, ... 9 too within two decades; beyond, they would overlap: decades only.
        chart.getStyler().setYAxisLogarithmicDecadeOnly(max / min > 100);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(220, 220, 220));
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setOverlapped(true);
        st.setChartTitleFont(st.getChartTitleFont().deriveFont(14f));
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (String size : sizes) {
                ys.add(s.getValue().get(size));
            }
            CategorySeries cs = chart.addSeries(s.getKey(), sizes, ys);
            cs.setMarker(SeriesMarkers.CIRCLE);
            cs.setLineStyle(new BasicStroke(2f));
        }
        try (OutputStream os = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, os, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    private static Optional<String> firstLine(Path file) {
        try {
            if (!Files.isReadable(file)) {
                return Optional.empty();
            }
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return lines.isEmpty() || lines.get(0).trim().split("\\s+").length < 3
                    ? Optional.empty() : Optional.of(lines.get(0).trim());
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> firstValue(Path file, String key, char separator) {
        try {
            if (!Files.isReadable(file)) {
                return Optional.empty();
            }
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                int i = line.indexOf(separator);
                if (i > 0 && line.substring(0, i).trim().equals(key)) {
                    return Optional.of(line.substring(i + 1).trim());
                }
            }
            return Optional.empty();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    /** {@code git rev-parse --short HEAD} here, noting uncommitted changes to tracked files; or why there is none. */
    static String gitCommit() {
        Optional<String> head = git("rev-parse", "--short", "HEAD");
        if (head.isEmpty()) {
            return "unknown (not in a git work tree, or git is missing)";
        }
        Optional<String> dirty = git("status", "--porcelain", "--untracked-files=no");
        return head.get() + (dirty.isPresent() && !dirty.get().isBlank() ? " (with uncommitted changes)" : "");
    }

    private static Optional<String> git(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return Optional.empty();
            }
            return Optional.of(new String(out, StandardCharsets.UTF_8).trim());
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
