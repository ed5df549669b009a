package org.rnn4j.trace;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.rnn4j.backend.Precision;
import org.rnn4j.net.ParamTensor;

/**
 * Compares one training run on two backends value by value: every traced value (grouped by trace field) and every
 * final weight (grouped by parameter tensor). This is what {@code rnn4j train rnn|lstm --check} reports.
 *
 * <h2>Tolerances</h2>
 * <ul>
 *   <li><b>float64:</b> {@code |got - ref| <= max(1e-9 * |ref| + 1e-12, 10 * E)}. The first term is the bound the
 *       seeds' golden traces are held to. It is too tight for a run that amplifies rounding: the seeds' default LSTM
 *       run moves by up to 2e-9 when merely the summation order of its dot products changes, and CUDA's {@code exp}
 *       and {@code tanh} round differently from Java's on some inputs. So, as in float32, the bound is derived from a
 *       third run: the reference backend in float64 with every GEMM's sum split in two
 *       ({@link org.rnn4j.backend.cpu.CpuBackend64#withSplitSums}), a run that differs from the reference by rounding
 *       alone; {@code E} is its largest deviation from the reference over that quantity. On the default LSTM run,
 *       splitting at other points (0.05 to 0.95 of {@code k}) moved the run by up to 2.3 E, so the check allows
 *       10 E (the GPU's rounding differs in more places than one split); a backend computing in float32 is still off
 *       by orders of magnitude more. On a run that does not amplify rounding {@code E} is a few ulps and the fixed
 *       bound decides.</li>
 *   <li><b>float32:</b> no fixed bound holds for a whole training run, because training amplifies rounding: the CPU's
 *       own float32 run drifts from its float64 run by far more than a float32 ulp (on the seed LSTM's default run, by up to
 *       0.35 around iterations 40-50; see docs/parity.md).
 *       So the bound is derived from a third run, the CPU in float64 (the closest thing to the exact result), where
 *       {@code E} is the CPU's largest float32 deviation over that quantity. The GPU's float32 kernels compute in
 *       float with CUDA's {@code expf}/{@code tanhf} (within 2.5 ulps of exact, at most 5u relative, {@code u = 2^-24})
 *       and {@code logf} (3u), where the CPU rounds Java's double functions once (about u), and the arithmetic around
 *       them rounds alike or, fused, less: each local rounding error of the GPU's run is at most {@code K = 5} times
 *       the CPU's bound. To first order a run's deviation is a linear image of its local errors, so the GPU's run lies
 *       within about {@code K E} of the float64 run, and the two float32 runs within {@code (K + 1) E = 6E} of each
 *       other. The check allows {@code 9E} (50% slack for the GPU's different summation order) plus
 *       {@code K * 8u|ref| = 40u|ref|}, which covers quantities the float64 run happens to match exactly:
 *       {@code |got - ref| <= 9 * E + 40 * 2^-24 * |ref|} (docs/parity.md).</li>
 * </ul>
 */
public final class ParityCheck {

    /** The float64 bound's fixed part, relative: the tolerance the seeds' golden traces are held to. */
    public static final double RTOL64 = 1e-9;
    /** The float64 bound's fixed part, absolute. */
    public static final double ATOL64 = 1e-12;
    /** The float64 bound's derived part: the multiple of the perturbed reference run's deviation. */
    public static final double ERROR_MULTIPLE64 = 10;
    /** Where the perturbed float64 reference run splits each GEMM's sum, as a fraction of {@code k}. */
    public static final double SPLIT_AT = 0.5;
    /** The float32 bound's derived part: the multiple of the CPU's own float32 error {@code E}. */
    public static final double ERROR_MULTIPLE32 = 9;
    /** The float32 bound's relative part, {@code 40 * 2^-24} (40 units of float32 rounding) times {@code |ref|}. */
    public static final double ULPS32 = 40 * Math.ulp(1.0f) / 2; // 40 * 2^-24

    /**
     * What one run shows: its trace lines (JSON objects) and its final parameters. The lists and the array are
     * copied.
     *
     * @param trace      the run's trace lines, each with an {@code "iter"} key ({@link Traces})
     * @param tensors    the network's parameter tensors, naming the slices of {@code parameters}
     * @param parameters the final weights, all tensors in one flat array
     */
    public record Outcome(List<? extends JsonNode> trace, List<ParamTensor> tensors, double[] parameters) {
        /**
         * Copies the lists and the array, so that the outcome does not change with the run.
         *
         * @param trace      the run's trace lines
         * @param tensors    the network's parameter tensors
         * @param parameters the final weights
         */
        public Outcome {
            trace = List.copyOf(trace);
            tensors = List.copyOf(tensors);
            parameters = parameters.clone();
        }
    }

    /**
     * One compared quantity: a trace field over all lines, or one weight tensor.
     *
     * @param quantity   {@code "trace KEY"} or {@code "weights NAME"}
     * @param values     how many values were compared
     * @param maxAbs     the largest {@code |got - ref|} (infinite for a NaN)
     * @param maxRel     the largest {@code |got - ref| / |ref|}
     * @param worstRatio the largest deviation as a fraction of what its value is allowed; above 1 fails (infinite for
     *                   a NaN, or a deviation where nothing is allowed)
     */
    public record Line(String quantity, int values, double maxAbs, double maxRel, double worstRatio) {
        /**
         * Whether every value lies within its tolerance.
         *
         * @return {@code worstRatio <= 1}
         */
        public boolean ok() {
            return worstRatio <= 1;
        }
    }

    /**
     * The comparison: one line per quantity, and any structural mismatch (trace lengths, iterations, keys).
     *
     * @param tolerance the bound applied, in words, for the table's first line
     * @param lines     one line per quantity both runs record, in a stable order
     * @param problems  what differs in structure; a run with any fails
     */
    public record Report(String tolerance, List<Line> lines, List<String> problems) {
        /**
         * Whether the runs agree: the same structure, and every value within its tolerance.
         *
         * @return true when there are no problems and every line is {@link Line#ok}
         */
        public boolean passed() {
            return problems.isEmpty() && lines.stream().allMatch(Line::ok);
        }

        /**
         * The worst value's share of its tolerance, over all lines.
         *
         * @return the largest {@link Line#worstRatio}, 0 when there are no lines
         */
        public double worstRatio() {
            return lines.stream().mapToDouble(Line::worstRatio).max().orElse(0);
        }

        /**
         * The table {@code --check} prints: the tolerance, one row per quantity with its verdict, the problems, and
         * the result.
         *
         * @param got the checked backend's name, for the column heading
         * @param ref the reference backend's name
         * @return the table's lines, without line ends
         */
        public List<String> table(String got, String ref) {
            List<String> out = new ArrayList<>();
            out.add("tolerance: " + tolerance);
            out.add(String.format(Locale.ROOT, "%-22s %7s  %-16s %-14s %-14s %s", "quantity", "values",
                    "max |" + got + "-" + ref + "|", "max relative", "worst/allowed", "verdict"));
            for (Line l : lines) {
                out.add(String.format(Locale.ROOT, "%-22s %7d  %-16.3e %-14.3e %-14.3e %s", l.quantity(), l.values(),
                        l.maxAbs(), l.maxRel(), l.worstRatio(), l.ok() ? "ok" : "EXCEEDS"));
            }
            for (String p : problems) {
                out.add("problem: " + p);
            }
            out.add(passed()
                    ? String.format(Locale.ROOT, "result: pass (the worst value uses %.3g%% of its tolerance)",
                            100 * worstRatio())
                    : "result: FAIL (" + (problems.isEmpty() ? "deviation beyond tolerance" : "runs differ") + ")");
            return out;
        }
    }

    private ParityCheck() {
    }

    /**
     * Compares two float64 runs within the fixed bound alone, {@code 1e-9 * |ref| + 1e-12}.
     *
     * @param got the checked backend's run
     * @param ref the reference backend's run of the same training
     * @return the comparison; structural differences are reported in it, not thrown
     */
    public static Report compare64(Outcome got, Outcome ref) {
        return compare64(got, ref, null);
    }

    /**
     * Compares two float64 runs, with the bound's derived part from {@code perturbed}, the reference backend's run of
     * the same training with its sums split (see the class comment); null for the fixed bound alone.
     *
     * @param got       the checked backend's run
     * @param ref       the reference backend's run of the same training
     * @param perturbed the reference backend's run with each GEMM's sum split at {@link #SPLIT_AT}, or null
     * @return the comparison; structural differences (those of {@code perturbed} too) are reported in it, not thrown
     */
    public static Report compare64(Outcome got, Outcome ref, Outcome perturbed) {
        Map<String, double[][]> g = quantities(got);
        Map<String, double[][]> r = quantities(ref);
        List<String> problems = structure(got, ref, g, r);
        Map<String, double[][]> p = null;
        if (perturbed != null) {
            p = quantities(perturbed);
            problems.addAll(structure(ref, perturbed, r, p).stream().map(x -> "perturbed reference run: " + x)
                    .toList());
        }
        List<Line> lines = new ArrayList<>();
        for (Map.Entry<String, double[][]> e : r.entrySet()) {
            double[][] gv = g.get(e.getKey());
            double[][] pv = p == null ? null : p.get(e.getKey());
            if (gv != null && (p == null || pv != null && pv[0].length == e.getValue()[0].length)) {
                lines.add(line(e.getKey(), gv[0], e.getValue()[0], pv == null ? null : pv[0], Precision.FLOAT64));
            }
        }
        String fixed = String.format(Locale.ROOT, "%.0e * |ref| + %.0e", RTOL64, ATOL64);
        return new Report(perturbed == null ? "|got - ref| <= " + fixed + " for every value"
                : String.format(Locale.ROOT, "|got - ref| <= max(%s, %.0f * E), E = the reference backend's largest "
                        + "deviation of that quantity when each GEMM's sum is split in two", fixed, ERROR_MULTIPLE64),
                lines, problems);
    }

    /**
     * Compares two float32 runs, with the bound derived from {@code ref64}, the reference backend's float64 run of the
     * same training (see the class comment).
     *
     * @param got   the checked backend's float32 run
     * @param ref   the reference backend's float32 run of the same training
     * @param ref64 the reference backend's float64 run of the same training
     * @return the comparison; structural differences (those of {@code ref64} too) are reported in it, not thrown
     */
    public static Report compare32(Outcome got, Outcome ref, Outcome ref64) {
        Map<String, double[][]> g = quantities(got);
        Map<String, double[][]> r = quantities(ref);
        Map<String, double[][]> r64 = quantities(ref64);
        List<String> problems = structure(got, ref, g, r);
        problems.addAll(structure(ref, ref64, r, r64).stream().map(p -> "float64 reference run: " + p).toList());
        List<Line> lines = new ArrayList<>();
        for (Map.Entry<String, double[][]> e : r.entrySet()) {
            double[][] gv = g.get(e.getKey());
            double[][] wv = r64.get(e.getKey());
            if (gv != null && wv != null && wv[0].length == e.getValue()[0].length) {
                lines.add(line(e.getKey(), gv[0], e.getValue()[0], wv[0], Precision.FLOAT32));
            }
        }
        return new Report(String.format(Locale.ROOT, "|got - ref| <= %.0f * E + %.0f * 2^-24 * |ref|, E = the "
                + "reference backend's largest float32-vs-float64 deviation of that quantity", ERROR_MULTIPLE32,
                ULPS32 / 0x1p-24), lines,
                problems);
    }

    /**
     * One quantity's line. {@code other} is the run that measures the reference's own error: in float32 the float64
     * run, in float64 the perturbed run (or null for the fixed bound alone).
     */
    private static Line line(String name, double[] got, double[] ref, double[] other, Precision precision) {
        double e = 0;
        if (other != null) {
            for (int i = 0; i < ref.length; i++) {
                e = Math.max(e, Math.abs(ref[i] - other[i])); // NaN stays NaN: no bound, the line fails
            }
        }
        double maxAbs = 0;
        double maxRel = 0;
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            double allowed = precision == Precision.FLOAT64
                    ? Math.max(RTOL64 * Math.abs(ref[i]) + ATOL64, ERROR_MULTIPLE64 * e)
                    : ERROR_MULTIPLE32 * e + ULPS32 * Math.abs(ref[i]);
            double ratio = d == 0 ? 0 : allowed == 0 ? Double.POSITIVE_INFINITY : d / allowed;
            if (Double.isNaN(d)) {
                ratio = Double.POSITIVE_INFINITY;
            }
            maxAbs = Math.max(maxAbs, Double.isNaN(d) ? Double.POSITIVE_INFINITY : d);
            maxRel = Math.max(maxRel, d == 0 ? 0 : d / Math.max(Math.abs(ref[i]), Double.MIN_NORMAL));
            worst = Math.max(worst, ratio);
        }
        return new Line(name, ref.length, maxAbs, maxRel, worst);
    }

    /** Trace lengths, iteration numbers and keys must agree exactly; returns what does not. */
    private static List<String> structure(Outcome got, Outcome ref, Map<String, double[][]> g,
                                          Map<String, double[][]> r) {
        List<String> problems = new ArrayList<>();
        if (got.trace().size() != ref.trace().size()) {
            problems.add("the traces have " + got.trace().size() + " and " + ref.trace().size() + " lines");
        }
        for (int i = 0; i < Math.min(got.trace().size(), ref.trace().size()); i++) {
            JsonNode gi = got.trace().get(i).get("iter");
            JsonNode ri = ref.trace().get(i).get("iter");
            if (gi == null || !gi.equals(ri)) {
                problems.add("trace line " + (i + 1) + " is iteration " + gi + " in one run and " + ri + " in the other");
                break;
            }
        }
        if (!g.keySet().equals(r.keySet())) {
            problems.add("the runs record different quantities: " + g.keySet() + " and " + r.keySet());
        }
        for (Map.Entry<String, double[][]> e : r.entrySet()) {
            double[][] gv = g.get(e.getKey());
            if (gv != null && gv[0].length != e.getValue()[0].length) {
                problems.add(e.getKey() + " has " + gv[0].length + " and " + e.getValue()[0].length + " values");
            }
        }
        return problems;
    }

    /** Every numeric trace field (all lines, arrays flattened) and every weight tensor, by name, in a stable order. */
    private static Map<String, double[][]> quantities(Outcome o) {
        Map<String, List<Double>> trace = new LinkedHashMap<>();
        for (JsonNode line : o.trace()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = line.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                if (f.getKey().equals("iter")) {
                    continue; // compared exactly by structure()
                }
                List<Double> values = trace.computeIfAbsent("trace " + f.getKey(), k -> new ArrayList<>());
                collect(f.getValue(), values);
            }
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        trace.forEach((k, v) -> out.put(k, new double[][] {v.stream().mapToDouble(Double::doubleValue).toArray()}));
        for (ParamTensor t : o.tensors()) {
            double[] w = new double[t.size()];
            System.arraycopy(o.parameters(), t.offset(), w, 0, t.size());
            out.put("weights " + t.name(), new double[][] {w});
        }
        return out;
    }

    private static void collect(JsonNode node, List<Double> into) {
        if (node.isArray()) {
            node.forEach(n -> collect(n, into));
        } else if (node.isNumber()) {
            into.add(node.doubleValue());
        }
    }
}
