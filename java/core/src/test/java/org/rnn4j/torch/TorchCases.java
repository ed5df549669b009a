package org.rnn4j.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.backend.Backend;
import org.rnn4j.nn.Lstm;
import org.rnn4j.testing.Json;

/**
 * Reads the PyTorch fixtures that {@code make_torch_nn_fixtures.py} writes ({@code src/test/resources/org/rnn4j/torch}:
 * {@code lstm_stack_fixtures.json}, {@code nn_fixtures.json}, {@code train_fixtures.json}). Every tensor there is
 * {@code {"shape": [...], "data": [...]}}, flattened row-major; a {@link Case} wraps one JSON object and hands out its
 * tensors, scalars and named groups (parameters and gradients under PyTorch's names, in PyTorch's order).
 * Public and read through the class path, so that the CUDA module's tests can use it from the core's test jar.
 */
public final class TorchCases {

    /** The multi-layer {@code nn.LSTM} cases. */
    public static final String LSTM_STACK = "lstm_stack_fixtures.json";
    /** Linear, Embedding, cross-entropy, MSE and clip_grad_norm_ cases. */
    public static final String NN = "nn_fixtures.json";
    /** The training run, Adam with weight decay and SGD with momentum. */
    public static final String TRAIN = "train_fixtures.json";

    /** float64 tolerance of the PyTorch-equality tests: {@code |got - want| <= RTOL * |want| + ATOL}. */
    public static final double RTOL = 1e-9;
    /** See {@link #RTOL}. */
    public static final double ATOL = 1e-12;

    private static final String DIR = "/org/rnn4j/torch/";

    private TorchCases() {
    }

    /** A tensor: its shape and its values, flattened row-major. */
    public record Tensor(int[] shape, double[] data) {
        /** The values as ints (index and target tensors). */
        public int[] ints() {
            int[] out = new int[data.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (int) data[i];
                if (out[i] != data[i]) {
                    throw new IllegalStateException("element " + i + " is not an integer: " + data[i]);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return "Tensor" + Arrays.toString(shape);
        }
    }

    /** One JSON object of a fixture file. */
    public record Case(Json node) {
        /** The tensor {@code name}. */
        public Tensor tensor(String name) {
            return toTensor(field(name), name);
        }

        /** The values of the tensor {@code name}. */
        public double[] data(String name) {
            return tensor(name).data();
        }

        /** An integer field. */
        public int integer(String name) {
            return field(name).asInt();
        }

        /** A number field. */
        public double number(String name) {
            return field(name).asDouble();
        }

        /** A boolean field. */
        public boolean flag(String name) {
            return field(name).asBoolean();
        }

        /** A group of named tensors (parameters, gradients) in the file's order, PyTorch's. */
        public Map<String, Tensor> group(String name) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, Json> e : field(name).fields().entrySet()) {
                out.put(e.getKey(), toTensor(e.getValue(), name + "." + e.getKey()));
            }
            return out;
        }

        /** A list of tensors. */
        public List<Tensor> tensors(String name) {
            List<Tensor> out = new ArrayList<>();
            for (Json t : field(name)) {
                out.add(toTensor(t, name));
            }
            return out;
        }

        /** A list of lists of tensors (per optimizer step, the tensors of that step). */
        public List<List<Tensor>> tensorLists(String name) {
            List<List<Tensor>> out = new ArrayList<>();
            for (Json list : field(name)) {
                List<Tensor> inner = new ArrayList<>();
                for (Json t : list) {
                    inner.add(toTensor(t, name));
                }
                out.add(inner);
            }
            return out;
        }

        /** A nested object. */
        public Case child(String name) {
            return new Case(field(name));
        }

        /** The elements of an array of objects. */
        public List<Case> children(String name) {
            List<Case> out = new ArrayList<>();
            for (Json n : field(name)) {
                out.add(new Case(n));
            }
            return out;
        }

        private Json field(String name) {
            return node.get(name);
        }
    }

    /** The whole file {@code resource} (one of the constants), as a case. */
    public static Case load(String resource) {
        String path = DIR + resource;
        return new Case(Json.resource(TorchCases.class, path));
    }

    /** The worst deviation of one compared array. */
    public record Deviation(String what, int n, double maxAbs, double maxRel, double worstUse, int bad,
                            String firstBad) {
        /** One line: the maximal absolute and relative deviation and how much of the tolerance was used. */
        public String line() {
            return String.format("%-18s n=%5d  max|got-want| %.3e  max rel %.3e  tolerance used %.2e%s", what, n,
                    maxAbs, maxRel, worstUse, bad > 0 ? "  FAILED " + bad + ": " + firstBad : "");
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
            double use = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d / allowed;
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

    /**
     * Runs one {@link #LSTM_STACK} case on {@code backend} through {@link Lstm}: PyTorch's parameters, inputs and
     * {@code (h0, c0)}, the forward, then {@code R, RH, RC} as the gradients of the outputs and the final state and the
     * backward. Returns what it computed under the fixture's keys ({@code outputs, hN, cN, inputGrads, h0Grads,
     * c0Grads} and the parameter names), for {@link #lstmStackWant}.
     */
    public static Map<String, double[]> runLstmStack(Backend backend, Case c) {
        Map<String, double[]> out = new LinkedHashMap<>();
        try (Lstm lstm = Lstm.create(backend, c.integer("inputSize"), c.integer("hidden"), c.integer("numLayers"), 99);
             Lstm.Workspace ws = lstm.workspace(c.integer("steps"), c.integer("batch"))) {
            for (Map.Entry<String, Tensor> e : c.group("params").entrySet()) {
                lstm.arena().uploadParam(e.getKey(), e.getValue().data());
            }
            ws.setInputs(c.data("inputs"));
            ws.setInitialState(c.data("h0"), c.data("c0"));
            lstm.forward(ws);
            out.put("outputs", ws.downloadOutputs());
            out.put("hN", ws.downloadFinalH());
            out.put("cN", ws.downloadFinalC());
            ws.setOutputGrads(c.data("outputGrads"));
            ws.setFinalStateGrads(c.data("hNGrads"), c.data("cNGrads"));
            lstm.backward(ws);
            out.put("inputGrads", ws.downloadInputGrads());
            out.put("h0Grads", ws.downloadInitialHGrads());
            out.put("c0Grads", ws.downloadInitialCGrads());
            for (String name : c.group("grads").keySet()) {
                out.put(name, lstm.arena().downloadGrad(name));
            }
        }
        return out;
    }

    /** PyTorch's value for a key of {@link #runLstmStack}'s result. */
    public static double[] lstmStackWant(Case c, String key) {
        return c.group("grads").containsKey(key) ? c.group("grads").get(key).data() : c.data(key);
    }

    /** A readable name of an {@link #LSTM_STACK} case. */
    public static String lstmStackName(Case c) {
        return "X=" + c.integer("inputSize") + " H=" + c.integer("hidden") + " L=" + c.integer("numLayers") + " B="
                + c.integer("batch") + " T=" + c.integer("steps");
    }

    private static Tensor toTensor(Json t, String name) {
        if (!t.isObject() || !t.has("shape") || !t.has("data")) {
            throw new IllegalStateException("'" + name + "' (" + t.path() + ") is not a tensor {shape, data}");
        }
        int[] s = t.get("shape").asInts();
        double[] d = t.get("data").asDoubles();
        long n = 1;
        for (int dim : s) {
            n *= dim;
        }
        if (n != d.length) {
            throw new IllegalStateException("'" + name + "' has shape " + Arrays.toString(s) + " but "
                    + d.length + " values");
        }
        return new Tensor(s, d);
    }
}
