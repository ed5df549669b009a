package org.rnn4j.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rnn4j.net.ParamTensor;

/** The float64 CPU reference's backward passes agree with finite differences, and the check itself can fail. */
class GradientCheckTest {

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7, 4294967295L})
    void rnnGradientsMatchFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.rnn(seed);
        assertEquals(List.of("synapse_0", "synapse_1", "synapse_h"),
                r.tensors().stream().map(t -> t.tensor().name()).toList(), "every parameter tensor is covered");
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7, 4294967295L})
    void lstmGradientsMatchFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.lstm(seed);
        assertEquals(List.of("W", "b"), r.tensors().stream().map(t -> t.tensor().name()).toList());
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7, 4294967295L})
    void standardLstmGradientsMatchFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.standardLstm(seed);
        assertEquals(List.of("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                r.tensors().stream().map(t -> t.tensor().name()).toList(), "every parameter tensor is covered");
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7})
    void lstmLayerWithTheSeedCellMatchesFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.lstmLayer(org.rnn4j.net.LstmLayer.Cell.SEED, seed);
        assertEquals(List.of("W", "b"), r.tensors().stream().map(t -> t.tensor().name()).toList());
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7, 4294967295L})
    void modelGradientsMatchFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.model(seed);
        assertEquals(List.of("embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                "head.weight", "head.bias", "h0", "c0"),
                r.tensors().stream().map(t -> t.tensor().name()).toList(), "every parameter and the state");
        assertTrue(r.setting().matches(".*dropout 0\\.25 \\(fixed mask, [1-9][0-9]* of 32 dropped\\).*"),
                r.setting());
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0, 1, 7, 4294967295L})
    void linearMseGradientsMatchFiniteDifferences(long seed) {
        GradientCheck.Result r = GradientCheck.linearMse(seed);
        assertEquals(List.of("weight", "bias", "input"), r.tensors().stream().map(t -> t.tensor().name()).toList());
        assertTrue(r.passed(), () -> "max relative error " + r.maxRelativeError() + ": " + r.tensors());
    }

    /**
     * A wrong entry planted in the analytic gradient of each checked tensor of the new checks (relative 1e-4, about
     * what a forgotten term of a small path gives) is caught, in that tensor, at that element.
     */
    @Test
    void aWrongGradientInTheModelOrLinearChecksIsCaught() {
        for (String which : new String[] {"model", "linear-mse"}) {
            GradientCheck.Result right = which.equals("model") ? GradientCheck.model(3) : GradientCheck.linearMse(3);
            assertTrue(right.passed(), which);
            for (int k = 0; k < right.tensors().size(); k++) {
                GradientCheck.TensorResult t = right.tensors().get(k);
                // the tensor's largest gradient, so that the error is well above the check's floor
                int at = t.tensor().offset() + largest(which, t);
                GradientCheck.Result wrong = which.equals("model")
                        ? GradientCheck.model(3, g -> g[at] *= 1 + 1e-4)
                        : GradientCheck.linearMse(3, g -> g[at] *= 1 + 1e-4);
                assertFalse(wrong.passed(), which + ", " + t.tensor().name() + ": " + wrong.tensors().get(k));
                GradientCheck.TensorResult bad = wrong.tensors().get(k);
                assertTrue(bad.maxRelativeError() > 5e-5, bad.toString());
                assertEquals(at - t.tensor().offset(), bad.worstIndex(), bad.toString());
                for (int j = 0; j < wrong.tensors().size(); j++) {
                    if (j != k) {
                        assertTrue(wrong.tensors().get(j).maxRelativeError() < GradientCheck.THRESHOLD,
                                "only " + t.tensor().name() + " is wrong: " + wrong.tensors().get(j));
                    }
                }
            }
        }
    }

    /** The index, inside the tensor, of its largest analytic gradient. */
    private static int largest(String which, GradientCheck.TensorResult t) {
        double[] g = new double[1];
        int[] best = new int[1];
        Consumer<double[]> find = all -> {
            for (int i = 0; i < t.tensor().size(); i++) {
                double v = Math.abs(all[t.tensor().offset() + i]);
                if (v > g[0]) {
                    g[0] = v;
                    best[0] = i;
                }
            }
        };
        if (which.equals("model")) {
            GradientCheck.model(3, find);
        } else {
            GradientCheck.linearMse(3, find);
        }
        return best[0];
    }

    /** f(p) = sum_i sin(p_i) * p_{i+1}, with its exact gradient; then one gradient entry made slightly wrong. */
    @Test
    void aWrongGradientIsCaught() {
        double[] p = {0.3, -1.2, 0.7, 2.0, -0.4};
        ToDoubleFunction<double[]> f = q -> {
            double s = 0;
            for (int i = 0; i + 1 < q.length; i++) {
                s += Math.sin(q[i]) * q[i + 1];
            }
            return s;
        };
        double[] grad = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            if (i + 1 < p.length) {
                grad[i] += Math.cos(p[i]) * p[i + 1];
            }
            if (i > 0) {
                grad[i] += Math.sin(p[i - 1]);
            }
        }
        List<ParamTensor> tensors = List.of(new ParamTensor("a", 0, 1, 2), new ParamTensor("b", 2, 1, 3));
        double right = GradientCheck.compare(tensors, p, grad, f).stream()
                .mapToDouble(GradientCheck.TensorResult::maxRelativeError).max().orElseThrow();
        assertTrue(right < 1e-9, "exact gradient: " + right);

        grad[3] *= 1 + 1e-5;
        List<GradientCheck.TensorResult> wrong = GradientCheck.compare(tensors, p, grad, f);
        assertTrue(wrong.get(0).maxRelativeError() < 1e-9, "tensor a is still right");
        assertTrue(wrong.get(1).maxRelativeError() > 5e-6, "tensor b is off by 1e-5: " + wrong.get(1));
        assertEquals(1, wrong.get(1).worstIndex());
    }
}
