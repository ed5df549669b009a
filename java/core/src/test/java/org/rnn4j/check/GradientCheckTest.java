package org.rnn4j.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
