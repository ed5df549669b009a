package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * The argument checks of the generic operations (losses, embedding, bias-add, dropout, norm and clipping,
 * optimizers), in the style of {@link BackendValidationTest}: wrong sizes and lengths throw
 * {@link IllegalArgumentException} naming the argument, forbidden aliasing is refused and allowed aliasing accepted,
 * bad scalars are refused, and on the CPU a bad class or embedding index is refused, naming its position, before
 * anything is written.
 */
class GenericOpsValidationTest {

    private CpuBackend64 be;

    @BeforeEach
    void open() {
        be = new CpuBackend64();
    }

    @AfterEach
    void close() {
        be.close();
    }

    private static void rejectsArg(String name, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "expected IllegalArgumentException naming " + name);
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(name + " "),
                "message should start with the argument " + name + ": " + e.getMessage());
    }

    private static void rejects(String text, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(text), "message should contain '" + text + "': " + e.getMessage());
    }

    private Buffer buf(int len, double value) {
        Buffer b = be.allocate(len);
        double[] v = new double[len];
        Arrays.fill(v, value);
        be.upload(v, b);
        return b;
    }

    private Buffer buf(int len) {
        return buf(len, 0.5);
    }

    @Test
    void crossEntropyChecksSizesAliasingAndTargets() {
        Buffer x = buf(3 * 4);
        Buffer t = buf(3, 1);
        Buffer loss = buf(3);
        Buffer mean = buf(1);
        Buffer dx = buf(12);
        assertDoesNotThrow(() -> be.crossEntropyForward(3, 4, x, t, loss, false));
        assertDoesNotThrow(() -> be.crossEntropyForward(3, 4, x, t, mean, true));
        assertDoesNotThrow(() -> be.crossEntropyBackward(3, 4, x, t, 1.0 / 3, dx));
        rejectsArg("rows", () -> be.crossEntropyForward(0, 4, x, t, loss, false));
        rejectsArg("classes", () -> be.crossEntropyForward(3, 0, x, t, loss, false));
        rejectsArg("logits", () -> be.crossEntropyForward(3, 5, x, t, loss, false));
        rejectsArg("targets", () -> be.crossEntropyForward(3, 4, x, buf(4), loss, false));
        rejectsArg("loss", () -> be.crossEntropyForward(3, 4, x, t, loss, true));
        rejectsArg("loss", () -> be.crossEntropyForward(3, 4, x, t, mean, false));
        rejectsArg("dLogits", () -> be.crossEntropyBackward(3, 4, x, t, 1, buf(11)));
        rejectsArg("scale", () -> be.crossEntropyBackward(3, 4, x, t, Double.NaN, dx));
        rejects("loss must not overlap logits", () -> be.crossEntropyForward(3, 4, x, t, x.slice(0, 3), false));
        rejects("dLogits must not overlap logits", () -> be.crossEntropyBackward(3, 4, x, t, 1, x));
        rejects("rows * classes", () -> be.crossEntropyForward(1 << 16, 1 << 16, x, t, loss, false));
        // Bad targets: named with their position, and nothing written.
        double[] before = be.download(loss);
        for (double bad : new double[] {4, -1, 1.5, Double.NaN, 1e300}) {
            Buffer tb = buf(3, 1);
            double[] tv = {1, 1, bad};
            be.upload(tv, tb);
            rejects("targets[2] = ", () -> be.crossEntropyForward(3, 4, x, tb, loss, false));
            rejects("targets[2] = ", () -> be.crossEntropyBackward(3, 4, x, tb, 1, dx));
        }
        assertArrayEquals(before, be.download(loss), "a refused call writes nothing");
    }

    @Test
    void float32RefusesClassCountsItCannotIndexExactly() {
        try (CpuBackend32 f = new CpuBackend32()) {
            Buffer one = f.allocate(1);
            Buffer big = f.allocate(Backend.MAX_INDEX_RANGE_FLOAT32 + 1);
            rejectsArg("classes", () -> f.crossEntropyForward(1, Backend.MAX_INDEX_RANGE_FLOAT32 + 1, big, one,
                    f.allocate(1), false));
            rejectsArg("vocab", () -> f.embeddingForward(Backend.MAX_INDEX_RANGE_FLOAT32 + 1, 1, big, one,
                    f.allocate(1)));
        }
    }

    @Test
    void mseChecks() {
        Buffer p = buf(5);
        Buffer t = buf(5);
        assertDoesNotThrow(() -> be.mseForward(p, t, buf(1)));
        assertDoesNotThrow(() -> be.mseBackward(p, t, 0.4, p)); // in place
        rejectsArg("target", () -> be.mseForward(p, buf(4), buf(1)));
        rejectsArg("loss", () -> be.mseForward(p, t, buf(2)));
        rejectsArg("pred", () -> be.mseForward(null, t, buf(1)));
        rejectsArg("dPred", () -> be.mseBackward(p, t, 1, buf(4)));
        rejectsArg("scale", () -> be.mseBackward(p, t, Double.POSITIVE_INFINITY, buf(5)));
        rejects("loss must not overlap pred", () -> be.mseForward(p, t, p.slice(2, 1)));
        rejects("dPred must not overlap target", () -> be.mseBackward(p, t, 1, t));
        rejects("dPred must be pred itself or not overlap it", () -> be.mseBackward(p.slice(0, 4), t.slice(0, 4), 1,
                p.slice(1, 4)));
    }

    @Test
    void embeddingChecksSizesAliasingAndIndices() {
        Buffer table = buf(6 * 2);
        Buffer idx = buf(4, 5);
        Buffer out = buf(8);
        Buffer dTable = buf(12);
        assertDoesNotThrow(() -> be.embeddingForward(6, 2, table, idx, out));
        assertDoesNotThrow(() -> be.embeddingBackward(6, 2, idx, out, dTable, true));
        rejectsArg("vocab", () -> be.embeddingForward(0, 2, table, idx, out));
        rejectsArg("dim", () -> be.embeddingForward(6, 0, table, idx, out));
        rejectsArg("table", () -> be.embeddingForward(5, 2, table, idx, out));
        rejectsArg("out", () -> be.embeddingForward(6, 2, table, idx, buf(9)));
        rejectsArg("indices", () -> be.embeddingForward(6, 2, table, null, out));
        rejectsArg("dOut", () -> be.embeddingBackward(6, 2, idx, buf(7), dTable, false));
        rejectsArg("dTable", () -> be.embeddingBackward(6, 2, idx, out, buf(13), false));
        rejects("out must not overlap table", () -> be.embeddingForward(6, 2, table, idx, table.slice(4, 8)));
        rejects("dTable must not overlap dOut", () -> be.embeddingBackward(6, 2, idx, dTable.slice(0, 8), dTable,
                false));
        double[] before = be.download(dTable);
        for (double bad : new double[] {6, -1, 0.5, Double.NaN}) {
            Buffer ib = buf(4, 1);
            be.upload(new double[] {0, bad, 1, 2}, ib);
            rejects("indices[1] = ", () -> be.embeddingForward(6, 2, table, ib, out));
            rejects("indices[1] = ", () -> be.embeddingBackward(6, 2, ib, out, dTable, false));
        }
        assertArrayEquals(before, be.download(dTable), "a refused call writes nothing");
    }

    @Test
    void biasAddAndDropoutChecks() {
        Buffer x = buf(6);
        Buffer b = buf(3);
        assertDoesNotThrow(() -> be.biasAdd(2, 3, x, b, x));
        rejectsArg("rows", () -> be.biasAdd(0, 3, x, b, x));
        rejectsArg("bias", () -> be.biasAdd(2, 3, x, buf(2), x));
        rejectsArg("y", () -> be.biasAdd(2, 3, x, b, buf(5)));
        rejects("y must not overlap bias", () -> be.biasAdd(1, 3, x.slice(0, 3), x.slice(2, 3), x.slice(0, 3)));
        Buffer mask = buf(6);
        assertDoesNotThrow(() -> be.dropoutForward(x, 0.5, 1, 0, mask, x));
        assertDoesNotThrow(() -> be.dropoutBackward(x, mask, x));
        for (double p : new double[] {-0.1, 1, 1.5, Double.NaN}) {
            rejectsArg("p", () -> be.dropoutForward(x, p, 1, 0, mask, buf(6)));
        }
        rejectsArg("mask", () -> be.dropoutForward(x, 0.5, 1, 0, buf(5), buf(6)));
        rejects("mask must not overlap x", () -> be.dropoutForward(x, 0.5, 1, 0, x, buf(6)));
        rejects("dx must not overlap mask", () -> be.dropoutBackward(x, mask, mask));
    }

    @Test
    void normClipAndScaleChecks() {
        Buffer x = buf(6);
        Buffer n = buf(1);
        assertDoesNotThrow(() -> be.l2Norm(x, n));
        assertDoesNotThrow(() -> be.clipCoefficient(n, 1, n));
        assertDoesNotThrow(() -> be.scaleBy(x, n));
        rejectsArg("norm", () -> be.l2Norm(x, buf(2)));
        rejects("norm must not overlap x", () -> be.l2Norm(x, x.slice(0, 1)));
        rejectsArg("maxNorm", () -> be.clipCoefficient(n, -1, buf(1)));
        rejectsArg("maxNorm", () -> be.clipCoefficient(n, Double.NaN, buf(1)));
        rejectsArg("coef", () -> be.clipCoefficient(n, 1, buf(2)));
        rejectsArg("factor", () -> be.scaleBy(x, buf(2)));
        rejects("x must not overlap factor", () -> be.scaleBy(x, x.slice(5, 1)));
    }

    @Test
    void optimizerChecks() {
        Buffer p = buf(4);
        Buffer g = buf(4);
        Buffer m = buf(4);
        Buffer v = buf(4);
        Buffer s = buf(1, 0);
        assertDoesNotThrow(() -> be.adamUpdate(p, g, m, v, s, 1e-3, 0.9, 0.999, 1e-8, 0));
        assertDoesNotThrow(() -> be.sgdMomentumUpdate(p, g, m, s, 0.1, 0.9, 0));
        rejectsArg("grads", () -> be.adamUpdate(p, buf(3), m, v, s, 1e-3, 0.9, 0.999, 1e-8, 0));
        rejectsArg("expAvg", () -> be.adamUpdate(p, g, buf(5), v, s, 1e-3, 0.9, 0.999, 1e-8, 0));
        rejectsArg("expAvgSq", () -> be.adamUpdate(p, g, m, buf(3), s, 1e-3, 0.9, 0.999, 1e-8, 0));
        rejectsArg("step", () -> be.adamUpdate(p, g, m, v, buf(2), 1e-3, 0.9, 0.999, 1e-8, 0));
        rejectsArg("lr", () -> be.adamUpdate(p, g, m, v, s, -1e-3, 0.9, 0.999, 1e-8, 0));
        rejectsArg("beta1", () -> be.adamUpdate(p, g, m, v, s, 1e-3, 1, 0.999, 1e-8, 0));
        rejectsArg("beta2", () -> be.adamUpdate(p, g, m, v, s, 1e-3, 0.9, -0.1, 1e-8, 0));
        rejectsArg("eps", () -> be.adamUpdate(p, g, m, v, s, 1e-3, 0.9, 0.999, Double.NaN, 0));
        rejectsArg("weightDecay", () -> be.adamUpdate(p, g, m, v, s, 1e-3, 0.9, 0.999, 1e-8, -1));
        rejects("expAvgSq must not overlap expAvg", () -> be.adamUpdate(p, g, m, m, s, 1e-3, 0.9, 0.999, 1e-8, 0));
        rejects("step must not overlap params", () -> be.adamUpdate(p, g, m, v, p.slice(0, 1), 1e-3, 0.9, 0.999,
                1e-8, 0));
        rejects("grads must not overlap params", () -> be.sgdMomentumUpdate(p, p, m, s, 0.1, 0.9, 0));
        rejectsArg("momentumBuffer", () -> be.sgdMomentumUpdate(p, g, buf(3), s, 0.1, 0.9, 0));
        rejectsArg("momentum", () -> be.sgdMomentumUpdate(p, g, m, s, 0.1, -0.9, 0));
        rejectsArg("lr", () -> be.sgdMomentumUpdate(p, g, m, s, Double.POSITIVE_INFINITY, 0.9, 0));
        try (CpuBackend32 f = new CpuBackend32()) {
            Buffer[] b = {f.allocate(2), f.allocate(2), f.allocate(2), f.allocate(2), f.allocate(1)};
            rejectsArg("lr", () -> f.adamUpdate(b[0], b[1], b[2], b[3], b[4], 1e39, 0.9, 0.999, 1e-8, 0));
        }
    }

    @Test
    void buffersOfAnotherBackendAreRefused() {
        try (CpuBackend64 other = new CpuBackend64()) {
            Buffer foreign = other.allocate(1);
            assertThrows(IllegalStateException.class, () -> be.l2Norm(buf(3), foreign));
            assertThrows(IllegalStateException.class, () -> be.scaleBy(buf(3), foreign));
        }
    }
}
