package org.rnn4j.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.net.ParamTensor;

/** The comparison behind {@code --check}, on hand-made outcomes whose deviations are known exactly. */
class ParityCheckTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<ParamTensor> W = List.of(new ParamTensor("w", 0, 1, 2));

    private static ParityCheck.Outcome outcome(double loss, double w0, double w1) {
        ObjectNode line = JSON.createObjectNode();
        line.put("iter", 0);
        line.put("loss", loss);
        return new ParityCheck.Outcome(List.of(line), W, new double[] {w0, w1});
    }

    @Test
    void float64BoundIsRelativePlusAbsolute() {
        // 1e-9 * 2 + 1e-12 = 2.001e-9 allowed on a value of 2
        assertTrue(ParityCheck.compare64(outcome(2 + 2.0e-9, 1, 0), outcome(2, 1, 0)).passed());
        ParityCheck.Report r = ParityCheck.compare64(outcome(2 + 2.1e-9, 1, 0), outcome(2, 1, 0));
        assertFalse(r.passed());
        assertEquals("trace loss", r.lines().get(0).quantity());
        assertFalse(r.lines().get(0).ok());
        assertTrue(r.lines().get(1).ok(), "the weights did not move");
        // a zero reference allows only the absolute part
        assertFalse(ParityCheck.compare64(outcome(1, 1, 2e-12), outcome(1, 1, 0)).passed());
    }

    @Test
    void derivedFloat64BoundIsTenTimesThePerturbedRunsDeviationOrTheFixedBound() {
        ParityCheck.Outcome ref = outcome(2, 1, 0);
        // the perturbed run moved the loss by 1e-8 (E = 1e-8): 1e-7 allowed, far over the fixed 2.001e-9
        ParityCheck.Outcome perturbed = outcome(2 - 1e-8, 1, 0);
        assertTrue(ParityCheck.compare64(outcome(2 + 0.99e-7, 1, 0), ref, perturbed).passed());
        assertFalse(ParityCheck.compare64(outcome(2 + 1.01e-7, 1, 0), ref, perturbed).passed());
        assertFalse(ParityCheck.compare64(outcome(2 + 0.99e-7, 1, 0), ref).passed(), "the fixed bound alone");
        // E is per quantity: the weights, which the perturbed run left alone, keep the fixed bound
        assertTrue(ParityCheck.compare64(outcome(2, 1 + 0.9e-9, 0), ref, perturbed).passed());
        assertFalse(ParityCheck.compare64(outcome(2, 1 + 1.1e-9, 0), ref, perturbed).passed());
        // a NaN in the perturbed run gives no bound: any deviation fails, no deviation passes
        ParityCheck.Outcome broken = outcome(Double.NaN, 1, 0);
        assertFalse(ParityCheck.compare64(outcome(2 + 1e-15, 1, 0), ref, broken).passed());
        assertTrue(ParityCheck.compare64(outcome(2, 1, 0), ref, broken).passed());
    }

    @Test
    void float32BoundScalesWithTheReferencesOwnFloat32Error() {
        ParityCheck.Outcome ref64 = outcome(1.0, 0.5, 0.25);
        ParityCheck.Outcome ref32 = outcome(1.0 + 1e-4, 0.5, 0.25); // E = 1e-4 on the loss, 0 on the weights
        // got within 9E + 40u|ref| of ref32 on the loss: passes; beyond: fails
        assertTrue(ParityCheck.compare32(outcome(1.0 + 1e-4 + 8.9e-4, 0.5, 0.25), ref32, ref64).passed());
        assertFalse(ParityCheck.compare32(outcome(1.0 + 1e-4 + 9.2e-4, 0.5, 0.25), ref32, ref64).passed());
        // where the reference matched float64 exactly, only a few float32 ulps are allowed (40u * 0.5 = 1.19e-6)
        assertTrue(ParityCheck.compare32(outcome(1.0 + 1e-4, 0.5 + 1.1e-6, 0.25), ref32, ref64).passed());
        assertFalse(ParityCheck.compare32(outcome(1.0 + 1e-4, 0.5 + 1.3e-6, 0.25), ref32, ref64).passed());
    }

    @Test
    void nanAndMismatchedTracesFail() {
        assertFalse(ParityCheck.compare64(outcome(Double.NaN, 1, 0), outcome(1, 1, 0)).passed());
        ObjectNode other = JSON.createObjectNode();
        other.put("iter", 5);
        other.put("loss", 1.0);
        ParityCheck.Outcome shifted = new ParityCheck.Outcome(List.of(other), W, new double[] {1, 0});
        ParityCheck.Report r = ParityCheck.compare64(shifted, outcome(1, 1, 0));
        assertFalse(r.passed());
        assertTrue(r.problems().get(0).contains("iteration"), r.problems().toString());
        assertTrue(r.table("got", "ref").get(r.table("got", "ref").size() - 1).startsWith("result: FAIL"));
    }
}
