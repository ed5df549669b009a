package org.rnn4j.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.backend.Backend;
import org.rnn4j.testing.Json;

/**
 * PyTorch's {@code nn.LSTM} in float64 on a few sizes ({@code src/test/resources/org/rnn4j/torch}, made by
 * {@code make_torch_fixtures.py}), and {@link LstmLayer} run on the same parameters, inputs and upstream gradient.
 * Public, and read through the class path, so that the CUDA module's tests use it from the core's test jar.
 */
public final class TorchFixtures {

    /** Classpath resource of the fixtures. */
    public static final String RESOURCE = "/org/rnn4j/torch/lstm_fixtures.json";

    /** PyTorch's parameter names, in {@link LstmLayer#parameterTensors()}'s order. */
    public static final List<String> TORCH_NAMES = List.of("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0");

    /** float64 tolerance: {@code |got - want| <= RTOL * |want| + ATOL}. */
    public static final double RTOL = 1e-9;
    public static final double ATOL = 1e-12;

    private TorchFixtures() {
    }

    /** One PyTorch run; parameters and gradients keyed by PyTorch's names, in {@link #TORCH_NAMES}' order. */
    public record Case(int inputSize, int hidden, int batch, int steps, Map<String, double[]> params, double[] inputs,
                       double[] outputGrads, double[] outputs, Map<String, double[]> grads) {
        public String name() {
            return "X=" + inputSize + " H=" + hidden + " B=" + batch + " T=" + steps;
        }

        @Override
        public String toString() {
            return name();
        }

        /** The parameters flattened in {@link LstmLayer}'s order, for {@link LstmLayer#setParameters}. */
        public double[] flatParams() {
            return concat(params);
        }
    }

    /** What {@link LstmLayer} computed: the outputs and the gradients, keyed by PyTorch's names. */
    public record Result(double[] outputs, Map<String, double[]> grads) {
    }

    /** The worst deviation of one compared array. */
    public record Deviation(String what, int n, double maxAbs, double maxRel, double worstUse, int bad,
                            String firstBad) {
        /** One line: the maximal absolute and relative deviation and how much of the tolerance was used. */
        public String line() {
            return String.format("%-14s n=%5d  max|got-want| %.3e  max rel %.3e  tolerance used %.2e%s", what, n,
                    maxAbs, maxRel, worstUse, bad > 0 ? "  FAILED " + bad + ": " + firstBad : "");
        }
    }

    public static List<Case> cases() {
        Json root = Json.resource(TorchFixtures.class, RESOURCE);
        List<Case> out = new ArrayList<>();
        for (Json c : root.get("cases")) {
            out.add(new Case(c.get("inputSize").asInt(), c.get("hidden").asInt(), c.get("batch").asInt(),
                    c.get("steps").asInt(), named(c.get("params")), c.get("inputs").asDoubles(),
                    c.get("outputGrads").asDoubles(), c.get("outputs").asDoubles(), named(c.get("grads"))));
        }
        return out;
    }

    /** The PyTorch version recorded in the fixtures. */
    public static String torchVersion() {
        return Json.resource(TorchFixtures.class, RESOURCE).get("torch_version").asText();
    }

    /**
     * Runs the case on {@code backend}: PyTorch's parameters, forward, the outputs downloaded; then PyTorch's upstream
     * gradient as {@link LstmLayer.Workspace#outputGrads()}, backward, the gradients downloaded.
     */
    public static Result run(Backend backend, Case c) {
        try (LstmLayer net = new LstmLayer(backend, c.inputSize(), c.hidden());
             LstmLayer.Workspace ws = net.workspace(c.steps(), c.batch())) {
            List<ParamTensor> tensors = net.parameterTensors();
            for (int i = 0; i < tensors.size(); i++) {
                if (!TORCH_NAMES.get(i).equals(tensors.get(i).name() + "_l0")) {
                    throw new AssertionError("tensor " + i + " is " + tensors.get(i).name() + ", PyTorch's "
                            + TORCH_NAMES.get(i));
                }
                if (tensors.get(i).size() != c.params().get(TORCH_NAMES.get(i)).length) {
                    throw new AssertionError(TORCH_NAMES.get(i) + ": sizes differ");
                }
            }
            net.setParameters(c.flatParams());
            ws.setInputs(c.inputs());
            net.forward(ws);
            double[] outputs = ws.downloadOutputs();
            ws.setOutputGrads(c.outputGrads());
            net.backward(ws);
            double[] g = net.gradients();
            Map<String, double[]> grads = new LinkedHashMap<>();
            for (int i = 0; i < tensors.size(); i++) {
                ParamTensor t = tensors.get(i);
                double[] part = new double[t.size()];
                System.arraycopy(g, t.offset(), part, 0, t.size());
                grads.put(TORCH_NAMES.get(i), part);
            }
            return new Result(outputs, grads);
        }
    }

    /**
     * Compares element by element with {@code |got - want| <= rtol * |want| + atol}; the relative deviation is
     * reported over the elements with {@code |want| >= 1e-6} (below that it measures nothing but the absolute one).
     */
    public static Deviation compare(String what, double[] got, double[] want, double rtol, double atol) {
        if (got.length != want.length) {
            throw new AssertionError(what + ": " + got.length + " values, want " + want.length);
        }
        double maxAbs = 0;
        double maxRel = 0;
        double worstUse = 0;
        int bad = 0;
        String firstBad = "";
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(got[i] - want[i]);
            double allowed = rtol * Math.abs(want[i]) + atol;
            double use = d / allowed;
            if (Double.isNaN(d)) {
                use = Double.POSITIVE_INFINITY;
            }
            maxAbs = Math.max(maxAbs, d);
            if (Math.abs(want[i]) >= 1e-6) {
                maxRel = Math.max(maxRel, d / Math.abs(want[i]));
            }
            worstUse = Math.max(worstUse, use);
            if (!(d <= allowed)) {
                if (bad == 0) {
                    firstBad = String.format("[%d] got %.17g want %.17g", i, got[i], want[i]);
                }
                bad++;
            }
        }
        return new Deviation(what, want.length, maxAbs, maxRel, worstUse, bad, firstBad);
    }

    /** Every compared array of one run: the outputs, then each gradient. */
    public static List<Deviation> compareAll(Case c, Result r, double rtol, double atol) {
        List<Deviation> out = new ArrayList<>();
        out.add(compare("outputs", r.outputs(), c.outputs(), rtol, atol));
        for (String name : TORCH_NAMES) {
            out.add(compare("d " + name, r.grads().get(name), c.grads().get(name), rtol, atol));
        }
        return out;
    }

    private static Map<String, double[]> named(Json node) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String name : TORCH_NAMES) {
            out.put(name, node.get(name).asDoubles());
        }
        return out;
    }

    private static double[] concat(Map<String, double[]> parts) {
        int n = 0;
        for (double[] p : parts.values()) {
            n += p.length;
        }
        double[] out = new double[n];
        int at = 0;
        for (String name : TORCH_NAMES) {
            double[] p = parts.get(name);
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
