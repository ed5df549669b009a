package org.rnn4j.backend;

import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.spi.Allocation;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * The checks {@link AbstractBackend} makes at the API boundary, exercised through {@link CpuBackend64}: wrong sizes
 * and lengths ({@link IllegalArgumentException} naming the argument), forbidden and allowed aliasing, buffers of
 * another backend or released ones ({@link IllegalStateException}), the life cycle of roots and views, and that a
 * rejected call leaves its outputs untouched.
 */
class BackendValidationTest {

    private static final int B = 3;
    private static final int H = 5;
    private static final int H4 = 4 * H;

    private CpuBackend64 be;

    @BeforeEach
    void open() {
        be = new CpuBackend64();
    }

    @AfterEach
    void close() {
        be.close();
    }

    // ---- helpers ---------------------------------------------------------------------------------------------------

    /** Asserts an IllegalArgumentException whose message contains {@code name} (the offending argument). */
    private static void rejects(String name, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "expected IllegalArgumentException naming " + name);
        assertTrue(e.getMessage() != null && e.getMessage().contains(name),
                "message should name " + name + ": " + e.getMessage());
    }

    /** Asserts an IllegalArgumentException whose message starts with {@code name} followed by a space. */
    private static void rejectsArg(String name, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call,
                "expected IllegalArgumentException naming " + name);
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(name + " "),
                "message should start with the argument " + name + ": " + e.getMessage());
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

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    // ---- gemm ------------------------------------------------------------------------------------------------------

    @Test
    void gemmRejectsBadSizesAndLeadingDimensions() {
        Buffer a = buf(6 * 4); // (6, 4)
        Buffer b = buf(4 * 5); // (4, 5)
        Buffer c = buf(6 * 5); // (6, 5)
        assertDoesNotThrow(() -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 5));

        rejectsArg("m", () -> be.gemm(false, false, 0, 5, 4, 1, a, 4, b, 5, 0, c, 5));
        rejectsArg("n", () -> be.gemm(false, false, 6, 0, 4, 1, a, 4, b, 5, 0, c, 5));
        rejectsArg("m", () -> be.gemm(false, false, -1, 5, 4, 1, a, 4, b, 5, 0, c, 5));
        rejectsArg("k", () -> be.gemm(false, false, 6, 5, -1, 1, a, 4, b, 5, 0, c, 5));
        rejectsArg("lda", () -> be.gemm(false, false, 6, 5, 4, 1, a, 3, b, 5, 0, c, 5));
        rejectsArg("lda", () -> be.gemm(true, false, 4, 5, 6, 1, a, 3, b, 5, 0, buf(4 * 5), 5)); // A^T: lda >= m
        rejectsArg("ldb", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 4, 0, c, 5));
        rejectsArg("ldb", () -> be.gemm(false, true, 6, 4, 4, 1, a, 4, b, 3, 0, buf(6 * 4), 4)); // B^T: ldb >= k
        rejectsArg("ldc", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 4));
        rejectsArg("lda", () -> be.gemm(false, false, 6, 5, 0, 1, a, 0, b, 5, 0, c, 5)); // k == 0 still needs ld >= 1
        // Buffers too short for the matrix their leading dimension describes.
        rejectsArg("a", () -> be.gemm(false, false, 6, 5, 4, 1, a, 5, b, 5, 0, c, 5));
        rejectsArg("a", () -> be.gemm(false, false, 7, 5, 4, 1, a, 4, b, 5, 0, buf(7 * 5), 5));
        rejectsArg("b", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 6, 0, c, 5));
        rejectsArg("b", () -> be.gemm(false, false, 6, 6, 4, 1, a, 4, b, 6, 0, buf(6 * 6), 6));
        rejectsArg("c", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, c, 6));
        rejectsArg("c", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, buf(6 * 5 - 1), 5));
        // Non-finite scalars.
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            rejectsArg("alpha", () -> be.gemm(false, false, 6, 5, 4, bad, a, 4, b, 5, 0, c, 5));
            rejectsArg("beta", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, bad, c, 5));
        }
        // Nulls.
        rejectsArg("a", () -> be.gemm(false, false, 6, 5, 4, 1, null, 4, b, 5, 0, c, 5));
        rejectsArg("b", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, null, 5, 0, c, 5));
        rejectsArg("c", () -> be.gemm(false, false, 6, 5, 4, 1, a, 4, b, 5, 0, null, 5));
    }

    @Test
    void gemmAcceptsTheTightestLengths() {
        // (m, n, k) = (2, 3, 4) with padded leading dimensions: A needs (2-1)*6+4, B (4-1)*5+3, C (2-1)*7+3.
        Buffer a = buf(10);
        Buffer b = buf(18);
        Buffer c = buf(10);
        assertDoesNotThrow(() -> be.gemm(false, false, 2, 3, 4, 1, a, 6, b, 5, 0, c, 7));
        rejectsArg("a", () -> be.gemm(false, false, 2, 3, 4, 1, a.slice(0, 9), 6, b, 5, 0, c, 7));
        rejectsArg("b", () -> be.gemm(false, false, 2, 3, 4, 1, a, 6, b.slice(1, 17), 5, 0, c, 7));
        rejectsArg("c", () -> be.gemm(false, false, 2, 3, 4, 1, a, 6, b, 5, 0, c.slice(0, 9), 7));
        // k == 0: nothing of A or B is read, any buffer will do; C = beta * C.
        Buffer one = buf(1);
        assertDoesNotThrow(() -> be.gemm(true, true, 2, 3, 0, 1, one, 2, one, 1, 0, c, 7));
    }

    @Test
    void gemmRejectsOutputOverlappingAnInput() {
        Buffer big = buf(100);
        Buffer a = big.slice(0, 16); // (4, 4)
        Buffer b = big.slice(40, 16);
        rejects("c must not overlap a", () -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, big.slice(10, 16), 4));
        rejects("c must not overlap a", () -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, a, 4));
        rejects("c must not overlap b", () -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, big.slice(55, 16), 4));
        rejects("c must not overlap", () -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, big, 4));
        // Adjacent views of one allocation do not overlap.
        assertDoesNotThrow(() -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, big.slice(16, 16), 4));
        assertDoesNotThrow(() -> be.gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, big.slice(56, 16), 4));
    }

    @Test
    void gemmAllowsTheSameBufferAsBothInputs() {
        // C = A * A^T with A = [[1, 2], [3, 4]] passed as both a and b.
        Buffer a = be.allocate(4);
        be.upload(new double[] {1, 2, 3, 4}, a);
        Buffer c = be.allocate(4);
        be.gemm(false, true, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2);
        assertArrayEquals(new double[] {5, 11, 11, 25}, be.download(c));
    }

    @Test
    void copyMatrixChecksSizesLeadingDimensionsAndAliasing() {
        Buffer src = buf(3 * 7); // (3, 7), or (3, 5) with ldSrc 7
        Buffer dst = buf(3 * 9);
        assertDoesNotThrow(() -> be.copyMatrix(3, 7, src, 7, dst, 9));
        rejectsArg("rows", () -> be.copyMatrix(0, 7, src, 7, dst, 9));
        rejectsArg("cols", () -> be.copyMatrix(3, 0, src, 7, dst, 9));
        rejectsArg("ldSrc", () -> be.copyMatrix(3, 7, src, 6, dst, 9));
        rejectsArg("ldDst", () -> be.copyMatrix(3, 7, src, 7, dst, 6));
        rejectsArg("src", () -> be.copyMatrix(3, 7, src, 8, dst, 9));
        rejectsArg("dst", () -> be.copyMatrix(3, 7, src, 7, dst, 11));
        rejectsArg("src", () -> be.copyMatrix(3, 7, null, 7, dst, 9));
        rejects("dst must not overlap src", () -> be.copyMatrix(3, 5, src, 7, src, 7));
        // Interleaved but disjoint element sets of one buffer still count as overlapping ranges.
        rejects("dst must not overlap src", () -> be.copyMatrix(2, 2, src.slice(0, 6), 4, src.slice(2, 6), 4));
        try (CpuBackend64 other = new CpuBackend64()) {
            assertThrows(IllegalStateException.class, () -> be.copyMatrix(3, 7, other.allocate(21), 7, dst, 9));
        }
    }

    // ---- elementwise -----------------------------------------------------------------------------------------------

    @Test
    void sigmoidForwardChecksLengthAndAliasing() {
        Buffer x = buf(8, 0.0);
        rejectsArg("y", () -> be.sigmoidForward(x, buf(7)));
        rejectsArg("y", () -> be.sigmoidForward(x, buf(9)));
        rejectsArg("x", () -> be.sigmoidForward(null, buf(8)));
        rejectsArg("y", () -> be.sigmoidForward(x, null));
        Buffer big = buf(20, 0.0);
        rejects("y must be x itself or not overlap it",
                () -> be.sigmoidForward(big.slice(0, 8), big.slice(4, 8)));
        rejects("y must be x itself or not overlap it",
                () -> be.sigmoidForward(big.slice(4, 8), big.slice(3, 8)));
        // In place: the same object, or another view of exactly the same range.
        be.sigmoidForward(x, x);
        assertArrayEquals(filled(8, 0.5), be.download(x));
        be.sigmoidForward(big.slice(2, 8), big.slice(0, 10).slice(2, 8));
        // Adjacent views of one allocation do not overlap.
        be.sigmoidForward(big.slice(2, 8), big.slice(10, 8));
        double[] got = be.download(big);
        double s = 1 / (1 + Math.exp(-0.5));
        double[] want = {0, 0, .5, .5, .5, .5, .5, .5, .5, .5, s, s, s, s, s, s, s, s, 0, 0};
        assertArrayEquals(want, got);
    }

    @Test
    void sigmoidBackwardChecksLengthsAndAliasing() {
        Buffer dy = buf(6, 2.0);
        Buffer y = buf(6, 0.25);
        rejectsArg("y", () -> be.sigmoidBackward(dy, buf(5), buf(6)));
        rejectsArg("dx", () -> be.sigmoidBackward(dy, y, buf(7)));
        rejectsArg("dy", () -> be.sigmoidBackward(null, y, buf(6)));
        rejects("dx must not overlap y", () -> be.sigmoidBackward(dy, y, y));
        Buffer big = buf(12, 1.0);
        rejects("dx must be dy itself or not overlap it",
                () -> be.sigmoidBackward(big.slice(0, 6), y, big.slice(1, 6)));
        be.sigmoidBackward(dy, y, dy);
        assertArrayEquals(filled(6, 2.0 * 0.25 * 0.75), be.download(dy));
    }

    @Test
    void sgdUpdateChecksLengthsAliasingAndLearningRate() {
        Buffer params = buf(9, 1.0);
        Buffer grads = buf(9, 2.0);
        rejectsArg("grads", () -> be.sgdUpdate(params, buf(8), 0.1));
        rejectsArg("params", () -> be.sgdUpdate(null, grads, 0.1));
        rejects("params must not overlap grads", () -> be.sgdUpdate(params, params, 0.1));
        Buffer big = buf(20);
        rejects("params must not overlap grads", () -> be.sgdUpdate(big.slice(0, 9), big.slice(8, 9), 0.1));
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            rejectsArg("learningRate", () -> be.sgdUpdate(params, grads, bad));
        }
        assertArrayEquals(filled(9, 1.0), be.download(params), "rejected calls must not update");
        be.sgdUpdate(params, grads, 0.25);
        assertArrayEquals(filled(9, 0.5), be.download(params));
    }

    // ---- LSTM cell -------------------------------------------------------------------------------------------------

    @Test
    void seedLstmCellForwardChecksSizesAndLengths() {
        Buffer preact = buf(B * H4);
        Buffer bias = buf(H4);
        Buffer sPrev = buf(B * H);
        Buffer gates = buf(B * H4);
        Buffer s = buf(B * H);
        Buffer h = buf(B * H);
        assertDoesNotThrow(() -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, h));
        rejectsArg("batch", () -> be.seedLstmCellForward(0, H, preact, bias, sPrev, gates, s, h));
        rejectsArg("hidden", () -> be.seedLstmCellForward(B, 0, preact, bias, sPrev, gates, s, h));
        rejectsArg("hidden", () -> be.seedLstmCellForward(B, -5, preact, bias, sPrev, gates, s, h));
        rejectsArg("preact", () -> be.seedLstmCellForward(B, H, buf(B * H4 - 1), bias, sPrev, gates, s, h));
        rejectsArg("bias", () -> be.seedLstmCellForward(B, H, preact, buf(H), sPrev, gates, s, h));
        rejectsArg("sPrev", () -> be.seedLstmCellForward(B, H, preact, bias, buf(H), gates, s, h));
        rejectsArg("gates", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, buf(B * H), s, h));
        rejectsArg("s", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, buf(B * H + 1), h));
        rejectsArg("h", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, buf(B)));
        // Shapes swapped: (batch, hidden) = (5, 3) holds as many states but not as many biases.
        rejectsArg("bias", () -> be.seedLstmCellForward(H, B, preact, bias, sPrev, gates, s, h));
    }

    @Test
    void seedLstmCellForwardAliasing() {
        Buffer preact = buf(B * H4, 0.3);
        Buffer bias = buf(H4, -0.1);
        Buffer sPrev = buf(B * H, 0.7);
        Buffer gates = buf(B * H4);
        Buffer s = buf(B * H);
        Buffer h = buf(B * H);
        rejects("s must not overlap h", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, s));
        rejects("s must not overlap sPrev", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, sPrev, h));
        rejects("h must not overlap preact",
                () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, preact.slice(0, B * H)));
        rejects("gates must not overlap bias", () -> be.seedLstmCellForward(1, H, preact.slice(0, H4), bias,
                sPrev.slice(0, H), bias, s.slice(0, H), h.slice(0, H)));
        Buffer big = buf(2 * B * H4);
        rejects("gates must be preact itself or not overlap it", () -> be.seedLstmCellForward(B, H,
                big.slice(0, B * H4), bias, sPrev, big.slice(1, B * H4), s, h));

        // gates == preact is allowed and gives what separate buffers give.
        be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, h);
        double[] wantGates = be.download(gates);
        double[] wantS = be.download(s);
        double[] wantH = be.download(h);
        Buffer both = buf(B * H4, 0.3);
        Buffer s2 = buf(B * H);
        Buffer h2 = buf(B * H);
        be.seedLstmCellForward(B, H, both, bias, sPrev, both, s2, h2);
        assertArrayEquals(wantGates, be.download(both));
        assertArrayEquals(wantS, be.download(s2));
        assertArrayEquals(wantH, be.download(h2));
    }

    @Test
    void seedLstmCellBackwardChecksSizesLengthsAndAliasing() {
        Buffer gates = buf(B * H4, 0.4);
        Buffer s = buf(B * H, 0.2);
        Buffer sPrev = buf(B * H, -0.3);
        Buffer dh = buf(B * H, 1.5);
        Buffer dsNext = buf(B * H, 0.6);
        Buffer dPreact = buf(B * H4);
        Buffer dsPrev = buf(B * H);
        rejectsArg("batch", () -> be.seedLstmCellBackward(0, H, gates, s, sPrev, dh, dsNext, dPreact, dsPrev));
        rejectsArg("hidden", () -> be.seedLstmCellBackward(B, 0, gates, s, sPrev, dh, dsNext, dPreact, dsPrev));
        rejectsArg("gates", () -> be.seedLstmCellBackward(B, H, buf(B * H), s, sPrev, dh, dsNext, dPreact, dsPrev));
        rejectsArg("s", () -> be.seedLstmCellBackward(B, H, gates, buf(1), sPrev, dh, dsNext, dPreact, dsPrev));
        rejectsArg("sPrev", () -> be.seedLstmCellBackward(B, H, gates, s, buf(1), dh, dsNext, dPreact, dsPrev));
        rejectsArg("dh", () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, buf(1), dsNext, dPreact, dsPrev));
        rejectsArg("dsNext", () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, buf(1), dPreact, dsPrev));
        rejectsArg("dPreact", () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, buf(1), dsPrev));
        rejectsArg("dsPrev", () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, dPreact, buf(1)));
        rejects("dPreact must not overlap gates",
                () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, gates, dsPrev));
        rejects("dsPrev must not overlap dh",
                () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, dPreact, dh));
        rejects("dsPrev must not overlap s",
                () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, dPreact, s));
        Buffer big = buf(2 * B * H, 0.6);
        rejects("dsPrev must be dsNext itself or not overlap it", () -> be.seedLstmCellBackward(B, H, gates, s,
                sPrev, dh, big.slice(0, B * H), dPreact, big.slice(2, B * H)));
        Buffer wide = buf(B * H4 + B * H);
        rejects("dPreact must not overlap dsNext", () -> be.seedLstmCellBackward(B, H, gates, s, sPrev, dh,
                wide.slice(B * H4 - 1, B * H), wide.slice(0, B * H4), dsPrev));

        // dsPrev == dsNext is allowed and gives what separate buffers give.
        be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, dsNext, dPreact, dsPrev);
        double[] wantDz = be.download(dPreact);
        double[] wantDs = be.download(dsPrev);
        Buffer carried = buf(B * H, 0.6);
        Buffer dPreact2 = buf(B * H4);
        be.seedLstmCellBackward(B, H, gates, s, sPrev, dh, carried, dPreact2, carried);
        assertArrayEquals(wantDs, be.download(carried));
        assertArrayEquals(wantDz, be.download(dPreact2));
    }

    // ---- standard LSTM cell ----------------------------------------------------------------------------------------

    @Test
    void standardLstmCellForwardChecksSizesAndLengths() {
        Buffer preact = buf(B * H4);
        Buffer bih = buf(H4);
        Buffer bhh = buf(H4);
        Buffer cPrev = buf(B * H);
        Buffer gates = buf(B * H4);
        Buffer c = buf(B * H);
        Buffer h = buf(B * H);
        assertDoesNotThrow(() -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, c, h));
        rejectsArg("batch", () -> be.standardLstmCellForward(0, H, preact, bih, bhh, cPrev, gates, c, h));
        rejectsArg("hidden", () -> be.standardLstmCellForward(B, 0, preact, bih, bhh, cPrev, gates, c, h));
        rejectsArg("hidden", () -> be.standardLstmCellForward(B, -5, preact, bih, bhh, cPrev, gates, c, h));
        rejectsArg("preact", () -> be.standardLstmCellForward(B, H, buf(B * H4 - 1), bih, bhh, cPrev, gates, c, h));
        rejectsArg("biasIh", () -> be.standardLstmCellForward(B, H, preact, buf(H), bhh, cPrev, gates, c, h));
        rejectsArg("biasHh", () -> be.standardLstmCellForward(B, H, preact, bih, buf(H4 + 1), cPrev, gates, c, h));
        rejectsArg("cPrev", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, buf(H), gates, c, h));
        rejectsArg("gates", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, buf(B * H), c, h));
        rejectsArg("c", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, buf(B * H + 1), h));
        rejectsArg("h", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, c, buf(B)));
        rejectsArg("preact", () -> be.standardLstmCellForward(B, H, null, bih, bhh, cPrev, gates, c, h));
        rejectsArg("biasHh", () -> be.standardLstmCellForward(B, H, preact, bih, null, cPrev, gates, c, h));
        // Shapes swapped: (batch, hidden) = (5, 3) holds as many states but not as many biases.
        rejectsArg("biasIh", () -> be.standardLstmCellForward(H, B, preact, bih, bhh, cPrev, gates, c, h));
    }

    @Test
    void standardLstmCellForwardAliasing() {
        Buffer preact = buf(B * H4, 0.3);
        Buffer bih = buf(H4, -0.1);
        Buffer bhh = buf(H4, 0.2);
        Buffer cPrev = buf(B * H, 0.7);
        Buffer gates = buf(B * H4);
        Buffer c = buf(B * H);
        Buffer h = buf(B * H);
        rejects("c must not overlap h", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, c, c));
        rejects("c must not overlap cPrev",
                () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, cPrev, h));
        rejects("h must not overlap preact", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates,
                c, preact.slice(0, B * H)));
        rejects("h must not overlap gates", () -> be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates,
                c, gates.slice(B * H, B * H)));
        rejects("gates must not overlap biasIh", () -> be.standardLstmCellForward(1, H, preact.slice(0, H4), bih, bhh,
                cPrev.slice(0, H), bih, c.slice(0, H), h.slice(0, H)));
        rejects("gates must not overlap biasHh", () -> be.standardLstmCellForward(1, H, preact.slice(0, H4), bih, bhh,
                cPrev.slice(0, H), bhh, c.slice(0, H), h.slice(0, H)));
        rejects("c must not overlap biasHh", () -> be.standardLstmCellForward(1, H, preact.slice(0, H4), bih, bhh,
                cPrev.slice(0, H), gates.slice(0, H4), bhh.slice(0, H), h.slice(0, H)));
        Buffer big = buf(2 * B * H4);
        rejects("gates must be preact itself or not overlap it", () -> be.standardLstmCellForward(B, H,
                big.slice(0, B * H4), bih, bhh, cPrev, big.slice(1, B * H4), c, h));
        // The same bias buffer for both (an input twice) is allowed.
        assertDoesNotThrow(() -> be.standardLstmCellForward(B, H, preact, bih, bih, cPrev, gates, c, h));

        // gates == preact is allowed and gives what separate buffers give.
        be.standardLstmCellForward(B, H, preact, bih, bhh, cPrev, gates, c, h);
        double[] wantGates = be.download(gates);
        double[] wantC = be.download(c);
        double[] wantH = be.download(h);
        Buffer both = buf(B * H4, 0.3);
        Buffer c2 = buf(B * H);
        Buffer h2 = buf(B * H);
        be.standardLstmCellForward(B, H, both, bih, bhh, cPrev, both, c2, h2);
        assertArrayEquals(wantGates, be.download(both));
        assertArrayEquals(wantC, be.download(c2));
        assertArrayEquals(wantH, be.download(h2));
    }

    @Test
    void standardLstmCellBackwardChecksSizesLengthsAndAliasing() {
        Buffer gates = buf(B * H4, 0.4);
        Buffer c = buf(B * H, 0.2);
        Buffer cPrev = buf(B * H, -0.3);
        Buffer dh = buf(B * H, 1.5);
        Buffer dcNext = buf(B * H, 0.6);
        Buffer dPreact = buf(B * H4);
        Buffer dcPrev = buf(B * H);
        assertDoesNotThrow(() -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, dcPrev));
        rejectsArg("batch", () -> be.standardLstmCellBackward(0, H, gates, c, cPrev, dh, dcNext, dPreact, dcPrev));
        rejectsArg("hidden", () -> be.standardLstmCellBackward(B, 0, gates, c, cPrev, dh, dcNext, dPreact, dcPrev));
        rejectsArg("gates",
                () -> be.standardLstmCellBackward(B, H, buf(B * H), c, cPrev, dh, dcNext, dPreact, dcPrev));
        rejectsArg("c", () -> be.standardLstmCellBackward(B, H, gates, buf(1), cPrev, dh, dcNext, dPreact, dcPrev));
        rejectsArg("cPrev", () -> be.standardLstmCellBackward(B, H, gates, c, buf(1), dh, dcNext, dPreact, dcPrev));
        rejectsArg("dh", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, buf(1), dcNext, dPreact, dcPrev));
        rejectsArg("dcNext", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, buf(1), dPreact, dcPrev));
        rejectsArg("dPreact", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, buf(1), dcPrev));
        rejectsArg("dcPrev", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, buf(1)));
        rejectsArg("dh", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, null, dcNext, dPreact, dcPrev));
        rejects("dPreact must not overlap gates",
                () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, gates, dcPrev));
        rejects("dcPrev must not overlap dh",
                () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, dh));
        rejects("dcPrev must not overlap c",
                () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, c));
        rejects("dcPrev must not overlap cPrev",
                () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, cPrev));
        Buffer big = buf(2 * B * H, 0.6);
        rejects("dcPrev must be dcNext itself or not overlap it", () -> be.standardLstmCellBackward(B, H, gates, c,
                cPrev, dh, big.slice(0, B * H), dPreact, big.slice(2, B * H)));
        Buffer wide = buf(B * H4 + B * H);
        rejects("dPreact must not overlap dcNext", () -> be.standardLstmCellBackward(B, H, gates, c, cPrev, dh,
                wide.slice(B * H4 - 1, B * H), wide.slice(0, B * H4), dcPrev));

        // dcPrev == dcNext is allowed and gives what separate buffers give.
        be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, dcNext, dPreact, dcPrev);
        double[] wantDz = be.download(dPreact);
        double[] wantDc = be.download(dcPrev);
        Buffer carried = buf(B * H, 0.6);
        Buffer dPreact2 = buf(B * H4);
        be.standardLstmCellBackward(B, H, gates, c, cPrev, dh, carried, dPreact2, carried);
        assertArrayEquals(wantDc, be.download(carried));
        assertArrayEquals(wantDz, be.download(dPreact2));
    }

    @Test
    void rejectedStandardCellCallsLeaveOutputsUntouched() {
        Buffer gates = buf(B * H4, 7);
        Buffer c = buf(B * H, 7);
        Buffer h = buf(B * H, 7);
        rejectsArg("h", () -> be.standardLstmCellForward(B, H, buf(B * H4), buf(H4), buf(H4), buf(B * H), gates, c,
                buf(B * H - 1)));
        Buffer dz = buf(B * H4, 7);
        Buffer dcPrev = buf(B * H, 7);
        rejectsArg("dcNext", () -> be.standardLstmCellBackward(B, H, buf(B * H4), buf(B * H), buf(B * H),
                buf(B * H), buf(B * H + 1), dz, dcPrev));
        for (Buffer out : new Buffer[] {gates, c, h, dz, dcPrev}) {
            for (double v : be.download(out)) {
                assertEquals(7.0, v);
            }
        }
        Buffer one = buf(1);
        rejectsArg("4 * hidden",
                () -> be.standardLstmCellForward(1, 1 << 30, one, one, one, one, one, one, one));
        rejectsArg("4 * hidden",
                () -> be.standardLstmCellBackward(1, 1 << 30, one, one, one, one, one, one, one));
    }

    // ---- sumRows ---------------------------------------------------------------------------------------------------

    @Test
    void sumRowsChecks() {
        Buffer src = buf(4 * 7);
        Buffer dst = buf(7);
        assertDoesNotThrow(() -> be.sumRows(4, 7, src, dst, true));
        rejectsArg("rows", () -> be.sumRows(0, 7, src, dst, false));
        rejectsArg("cols", () -> be.sumRows(4, -7, src, dst, false));
        rejectsArg("src", () -> be.sumRows(4, 7, buf(27), dst, false));
        rejectsArg("dst", () -> be.sumRows(4, 7, src, buf(4), false));
        rejectsArg("dst", () -> be.sumRows(4, 7, src, buf(8), false));
        rejects("dst must not overlap src", () -> be.sumRows(4, 7, src, src.slice(21, 7), false));
    }

    // ---- upload, download ------------------------------------------------------------------------------------------

    @Test
    void uploadAndDownloadCheckHostArraysAndOffsets() {
        Buffer b = be.allocate(5);
        rejectsArg("src", () -> be.upload(null, 0, b));
        rejects("src holds 4", () -> be.upload(new double[4], 0, b));
        rejects("src holds 7", () -> be.upload(new double[7], 3, b));
        rejects("src holds 7", () -> be.upload(new double[7], -1, b));
        rejects("src holds 7", () -> be.upload(new double[7], Integer.MAX_VALUE, b));
        assertDoesNotThrow(() -> be.upload(new double[7], 2, b));
        rejectsArg("dst", () -> be.upload(new double[5], 0, null));
        rejectsArg("dst", () -> be.download(b, null, 0));
        rejects("dst holds 4", () -> be.download(b, new double[4], 0));
        rejects("dst holds 7", () -> be.download(b, new double[7], 3));
        rejects("dst holds 7", () -> be.download(b, new double[7], -1));
        assertDoesNotThrow(() -> be.download(b, new double[7], 2));
        rejectsArg("src", () -> be.download(null, new double[5], 0));
        // The same checks through a view: its length counts, not the root's.
        Buffer view = be.allocate(50).slice(20, 5);
        rejects("src holds 4", () -> be.upload(new double[4], 0, view));
        assertDoesNotThrow(() -> be.upload(new double[5], 0, view));
        rejects("dst holds 6", () -> be.download(view, new double[6], 2));
    }

    // ---- sizes, slices ---------------------------------------------------------------------------------------------

    @Test
    void allocateRejectsNonPositiveLengths() {
        rejectsArg("length", () -> be.allocate(0));
        rejectsArg("length", () -> be.allocate(-1));
        rejectsArg("length", () -> be.allocate(Integer.MIN_VALUE));
    }

    @Test
    void sliceOutOfRangeThrows() {
        Buffer root = be.allocate(10);
        Buffer view = root.slice(2, 6); // root [2, 8)
        assertEquals(2, view.offset());
        assertEquals(6, view.length());
        assertFalse(view.isRoot());
        for (Buffer b : new Buffer[] {root, view}) {
            int n = b.length();
            assertThrows(IllegalArgumentException.class, () -> b.slice(-1, 1));
            assertThrows(IllegalArgumentException.class, () -> b.slice(0, -1));
            assertThrows(IllegalArgumentException.class, () -> b.slice(0, n + 1));
            assertThrows(IllegalArgumentException.class, () -> b.slice(n, 1));
            assertThrows(IllegalArgumentException.class, () -> b.slice(1, n));
            assertThrows(IllegalArgumentException.class, () -> b.slice(1, Integer.MAX_VALUE));
            assertThrows(IllegalArgumentException.class, () -> b.slice(Integer.MAX_VALUE, 1));
            assertThrows(IllegalArgumentException.class, () -> b.slice(Integer.MIN_VALUE, 1));
            assertDoesNotThrow(() -> b.slice(0, n));
            assertDoesNotThrow(() -> b.slice(n - 1, 1));
        }
        // Inside the root but outside the view.
        assertThrows(IllegalArgumentException.class, () -> view.slice(4, 3));
        assertEquals(7, view.slice(5, 1).offset());
    }

    // ---- ownership, life cycle -------------------------------------------------------------------------------------

    /**
     * Every operation, each call with one of the given buffers (of lengths 1, 4, 15 and 60) in one argument position
     * and valid buffers of {@code be} elsewhere.
     */
    private List<Executable> callsWith(Buffer x1, Buffer x4, Buffer x15, Buffer x60) {
        List<Executable> calls = new ArrayList<>();
        calls.add(() -> be.upload(new double[x1.length()], x1));
        calls.add(() -> be.download(x1));
        calls.add(() -> be.gemm(false, false, 1, 1, 1, 1, x1, 1, buf(1), 1, 0, buf(1), 1));
        calls.add(() -> be.gemm(false, false, 1, 1, 1, 1, buf(1), 1, x1, 1, 0, buf(1), 1));
        calls.add(() -> be.gemm(false, false, 1, 1, 1, 1, buf(1), 1, buf(1), 1, 0, x1, 1));
        calls.add(() -> be.sigmoidForward(x4, buf(4)));
        calls.add(() -> be.sigmoidForward(buf(4), x4));
        calls.add(() -> be.sigmoidBackward(buf(4), x4, buf(4)));
        calls.add(() -> be.sigmoidBackward(buf(4), buf(4), x4));
        calls.add(() -> be.seedLstmCellForward(B, H, x60, buf(H4), buf(B * H), buf(B * H4), buf(B * H), buf(B * H)));
        calls.add(() -> be.seedLstmCellForward(B, H, buf(B * H4), buf(H4), buf(B * H), buf(B * H4), buf(B * H), x15));
        calls.add(() -> be.seedLstmCellBackward(B, H, buf(B * H4), buf(B * H), buf(B * H), buf(B * H), buf(B * H),
                buf(B * H4), x15));
        calls.add(() -> be.seedLstmCellBackward(B, H, buf(B * H4), x15, buf(B * H), buf(B * H), buf(B * H),
                buf(B * H4), buf(B * H)));
        calls.add(() -> be.standardLstmCellForward(B, H, x60, buf(H4), buf(H4), buf(B * H), buf(B * H4), buf(B * H),
                buf(B * H)));
        calls.add(() -> be.standardLstmCellForward(B, H, buf(B * H4), buf(H4), buf(H4), buf(B * H), buf(B * H4),
                buf(B * H), x15));
        calls.add(() -> be.standardLstmCellBackward(B, H, buf(B * H4), buf(B * H), buf(B * H), buf(B * H),
                buf(B * H), buf(B * H4), x15));
        calls.add(() -> be.standardLstmCellBackward(B, H, buf(B * H4), x15, buf(B * H), buf(B * H), buf(B * H),
                buf(B * H4), buf(B * H)));
        calls.add(() -> be.crossEntropyForward(1, 4, x4, buf(1, 0), buf(1), true));
        calls.add(() -> be.crossEntropyForward(1, 4, buf(4), x1, buf(1), true));
        calls.add(() -> be.crossEntropyBackward(1, 4, buf(4), buf(1, 0), 1, x4));
        calls.add(() -> be.mseForward(x4, buf(4), buf(1)));
        calls.add(() -> be.mseBackward(buf(4), buf(4), 1, x4));
        calls.add(() -> be.embeddingForward(4, 1, x4, buf(1, 0), buf(1)));
        calls.add(() -> be.embeddingBackward(4, 1, buf(1, 0), buf(1), x4, false));
        calls.add(() -> be.biasAdd(1, 4, buf(4), x4, buf(4)));
        calls.add(() -> be.dropoutForward(x4, 0.5, 1, 0, buf(4), buf(4)));
        calls.add(() -> be.dropoutBackward(buf(4), x4, buf(4)));
        calls.add(() -> be.l2Norm(x15, buf(1)));
        calls.add(() -> be.clipCoefficient(x1, 1, buf(1)));
        calls.add(() -> be.scaleBy(buf(4), x1));
        calls.add(() -> be.adamUpdate(buf(4), buf(4), buf(4), buf(4), x1, 0.1, 0.9, 0.999, 1e-8, 0));
        calls.add(() -> be.sgdMomentumUpdate(buf(4), buf(4), x4, buf(1), 0.1, 0.9, 0));
        calls.add(() -> be.sumRows(1, 4, x4, buf(4), false));
        calls.add(() -> be.sumRows(1, 4, buf(4), x4, true));
        calls.add(() -> be.sgdUpdate(x4, buf(4), 0.1));
        calls.add(() -> be.sgdUpdate(buf(4), x4, 0.1));
        return calls;
    }

    @Test
    void buffersOfAnotherBackendAreRejected() {
        try (CpuBackend64 other64 = new CpuBackend64(); CpuBackend32 other32 = new CpuBackend32()) {
            for (Backend other : new Backend[] {other64, other32}) {
                List<Executable> calls = callsWith(other.allocate(1), other.allocate(4),
                        other.allocate(15), other.allocate(60).slice(0, 60));
                for (int i = 0; i < calls.size(); i++) {
                    IllegalStateException e = assertThrows(IllegalStateException.class, calls.get(i),
                            "call " + i + " with a buffer of " + other.description());
                    assertTrue(e.getMessage().contains("belongs to another backend"), e.getMessage());
                }
                // A view of a foreign root is foreign too.
                Buffer foreignView = other.allocate(8).slice(2, 4);
                assertThrows(IllegalStateException.class, () -> be.sigmoidForward(foreignView, buf(4)));
            }
        }
    }

    @Test
    void closedBuffersAreRejected() {
        Buffer r1 = be.allocate(1);
        Buffer r4 = be.allocate(4);
        Buffer r15 = be.allocate(15);
        Buffer r60 = be.allocate(100);
        Buffer v60 = r60.slice(20, 60);
        for (Buffer r : new Buffer[] {r1, r4, r15, r60}) {
            r.close();
            assertTrue(r.isClosed());
        }
        assertTrue(v60.isClosed(), "a view of a released root is closed");
        List<Executable> calls = callsWith(r1, r4, r15, v60);
        for (int i = 0; i < calls.size(); i++) {
            IllegalStateException e = assertThrows(IllegalStateException.class, calls.get(i), "call " + i);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertThrows(IllegalStateException.class, () -> r60.slice(0, 1));
        assertThrows(IllegalStateException.class, () -> v60.slice(0, 1));
        assertThrows(IllegalStateException.class, v60::checkOpen);
        assertDoesNotThrow(() -> r60.close(), "closing twice is harmless");
    }

    @Test
    void closingAViewReleasesNothing() {
        Buffer root = be.allocate(10);
        be.upload(new double[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, root);
        Buffer view = root.slice(3, 4);
        Buffer inner = view.slice(1, 2);
        view.close();
        inner.close();
        assertFalse(view.isClosed());
        assertFalse(root.isClosed());
        assertArrayEquals(new double[] {3, 4, 5, 6}, be.download(view));
        assertArrayEquals(new double[] {4, 5}, be.download(inner));
        be.sigmoidForward(view, view);
        assertEquals(1 / (1 + Math.exp(-3.0)), be.download(root)[3]);
        root.close();
        assertTrue(view.isClosed());
        assertTrue(inner.isClosed());
    }

    @Test
    void closingTheBackendReleasesEveryRootAndRejectsFurtherUse() {
        List<Buffer> roots = new ArrayList<>();
        List<Buffer> views = new ArrayList<>();
        // More than 64 roots, half closed by their owners, so the bookkeeping has to forget some along the way.
        for (int i = 0; i < 300; i++) {
            Buffer b = be.allocate(1 + i % 7);
            if (i % 2 == 0) {
                b.close();
            } else {
                roots.add(b);
                views.add(b.slice(0, 1));
            }
        }
        Buffer x = be.allocate(4);
        Buffer y = be.allocate(4);
        roots.add(x);
        roots.add(y);
        assertFalse(be.isClosed());
        for (Buffer b : roots) {
            assertFalse(b.isClosed());
        }
        be.close();
        assertTrue(be.isClosed());
        for (Buffer b : roots) {
            assertTrue(b.isClosed(), "backend.close() must release " + b);
        }
        for (Buffer v : views) {
            assertTrue(v.isClosed());
        }
        assertThrows(IllegalStateException.class, () -> be.allocate(1));
        assertThrows(IllegalStateException.class, () -> be.synchronize());
        assertThrows(IllegalStateException.class, () -> be.upload(new double[4], x));
        assertThrows(IllegalStateException.class, () -> be.download(x));
        assertThrows(IllegalStateException.class, () -> be.sigmoidForward(x, y));
        assertThrows(IllegalStateException.class, () -> be.sgdUpdate(x, y, 0.1));
        assertThrows(IllegalStateException.class,
                () -> be.gemm(false, false, 2, 2, 2, 1, x, 2, y, 2, 0, be.allocate(4), 2));
        assertDoesNotThrow(() -> be.close(), "close is idempotent");
    }

    @Test
    void rejectedCallsLeaveOutputsUntouched() {
        // Validation happens before any work: the last argument is wrong, the earlier outputs keep their NaNs.
        Buffer preact = buf(B * H4, 0.1);
        Buffer bias = buf(H4, 0.1);
        Buffer sPrev = buf(B * H, 0.1);
        Buffer gates = buf(B * H4, Double.NaN);
        Buffer s = buf(B * H, Double.NaN);
        rejectsArg("h", () -> be.seedLstmCellForward(B, H, preact, bias, sPrev, gates, s, buf(B * H - 1)));
        assertTrue(Arrays.stream(be.download(gates)).allMatch(Double::isNaN));
        assertTrue(Arrays.stream(be.download(s)).allMatch(Double::isNaN));

        Buffer c = buf(4, Double.NaN);
        rejectsArg("beta", () -> be.gemm(false, false, 2, 2, 2, 1, buf(4), 2, buf(4), 2, Double.NaN, c, 2));
        rejectsArg("ldc", () -> be.gemm(false, false, 2, 2, 2, 1, buf(4), 2, buf(4), 2, 0, c, 1));
        assertTrue(Arrays.stream(be.download(c)).allMatch(Double::isNaN));

        Buffer d = buf(4, Double.NaN);
        Buffer err = buf(1, Double.NaN);
        rejectsArg("targets", () -> be.crossEntropyBackward(2, 2, buf(4), buf(3, 0), 1, d));
        rejectsArg("target", () -> be.mseForward(buf(4), buf(3), err));
        assertTrue(Arrays.stream(be.download(d)).allMatch(Double::isNaN));
        assertTrue(Arrays.stream(be.download(err)).allMatch(Double::isNaN));
    }

    @Test
    void float32ScalarsAreCheckedAndUsedAsRounded() {
        try (CpuBackend32 f32 = new CpuBackend32()) {
            Buffer a = f32.allocate(4);
            Buffer b = f32.allocate(4);
            Buffer c = f32.allocate(4);
            f32.upload(new double[] {1, 2, 3, 4}, a);
            f32.upload(new double[] {1, 0, 0, 1}, b);
            // 1e39 is finite in double but not in float: rejected, naming the scalar
            rejectsArg("alpha", () -> f32.gemm(false, false, 2, 2, 2, 1e39, a, 2, b, 2, 0, c, 2));
            rejectsArg("learningRate", () -> f32.sgdUpdate(a, b, 1e39));
            // a beta that rounds to 0f means C is not read, so NaN in C does not survive
            f32.upload(new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN}, c);
            f32.gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 1e-50, c, 2);
            assertArrayEquals(new double[] {1, 2, 3, 4}, f32.download(c));
        }
    }

    // ---- zero sizes ------------------------------------------------------------------------------------------------

    /**
     * A backend that records which {@code do*} methods the shared checks call, and fails on an empty buffer the way a
     * CUDA launch of zero blocks does: proves that an operation on zero elements never reaches an implementation.
     */
    private static final class ProbeBackend extends AbstractBackend {
        final List<String> calls = new ArrayList<>();

        ProbeBackend() {
            super(Precision.FLOAT64);
        }

        private void call(String what, Buffer... buffers) {
            for (Buffer b : buffers) {
                if (b.length() == 0) {
                    throw new IllegalStateException(what + " launched on zero elements (grid 0)");
                }
            }
            calls.add(what);
        }

        @Override
        public String name() {
            return "probe";
        }

        @Override
        public String description() {
            return "records do* calls";
        }

        @Override
        protected Allocation doAllocate(int length) {
            return new Allocation(this, length) {
                @Override
                protected void release() {
                }
            };
        }

        @Override
        protected void doUpload(double[] src, int srcOffset, Buffer dst) {
            call("upload", dst);
        }

        @Override
        protected void doDownload(Buffer src, double[] dst, int dstOffset) {
            call("download", src);
        }

        @Override
        protected void doGemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Buffer a, int lda,
                              Buffer b, int ldb, double beta, Buffer c, int ldc) {
            call("gemm", c);
        }

        @Override
        protected void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
            call("copyMatrix", src, dst);
        }

        @Override
        protected void doSigmoidForward(Buffer x, Buffer y) {
            call("sigmoidForward", x, y);
        }

        @Override
        protected void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
            call("sigmoidBackward", dy, y, dx);
        }

        @Override
        protected void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                             Buffer gates, Buffer s, Buffer h) {
            call("seedLstmCellForward", preact);
        }

        @Override
        protected void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh,
                                              Buffer dsNext, Buffer dPreact, Buffer dsPrev) {
            call("seedLstmCellBackward", gates);
        }

        @Override
        protected void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh,
                                                 Buffer cPrev, Buffer gates, Buffer c, Buffer h) {
            call("standardLstmCellForward", preact);
        }

        @Override
        protected void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev,
                                                  Buffer dh, Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
            call("standardLstmCellBackward", gates);
        }



        @Override
        protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
            call("sumRows", src);
        }

        @Override
        protected void doSgdUpdate(Buffer params, Buffer grads, double learningRate) {
            call("sgdUpdate", params, grads);
        }

        @Override
        protected void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                             boolean mean) {
            call("crossEntropyForward", logits, targets, loss);
        }

        @Override
        protected void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                              Buffer dLogits) {
            call("crossEntropyBackward", logits, targets, dLogits);
        }

        @Override
        protected void doMseForward(Buffer pred, Buffer target, Buffer loss) {
            call("mseForward", pred, target, loss);
        }

        @Override
        protected void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred) {
            call("mseBackward", pred, target, dPred);
        }

        @Override
        protected void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out) {
            call("embeddingForward", table, indices, out);
        }

        @Override
        protected void doEmbeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                           boolean accumulate) {
            call("embeddingBackward", indices, dOut, dTable);
        }

        @Override
        protected void doBiasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y) {
            call("biasAdd", x, bias, y);
        }

        @Override
        protected void doDropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y) {
            call("dropoutForward", x, mask, y);
        }

        @Override
        protected void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx) {
            call("dropoutBackward", dy, mask, dx);
        }

        @Override
        protected void doL2Norm(Buffer x, Buffer norm) {
            call("l2Norm", x, norm);
        }

        @Override
        protected void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef) {
            call("clipCoefficient", norm, coef);
        }

        @Override
        protected void doScaleBy(Buffer x, Buffer factor) {
            call("scaleBy", x, factor);
        }

        @Override
        protected void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step,
                                    double lr, double beta1, double beta2, double eps, double weightDecay) {
            call("adamUpdate", params, grads, expAvg, expAvgSq, step);
        }

        @Override
        protected void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step,
                                           double lr, double momentum, double weightDecay) {
            call("sgdMomentumUpdate", params, grads, momentumBuffer, step);
        }

        @Override
        protected void doSynchronize() {
        }

        @Override
        protected void doClose() {
        }
    }

    /** The operations whose sizes come from their buffers alone, on views of {@code n} elements of {@code b}. */
    private static List<Executable> bufferSizedCalls(Backend b, int n) {
        Buffer x = b.allocate(n + 2).slice(1, n);
        Buffer y = b.allocate(n + 2).slice(1, n);
        Buffer z = b.allocate(n + 2).slice(1, n);
        return List.of(() -> b.upload(new double[n], x), () -> b.download(x, new double[n], 0),
                () -> b.sigmoidForward(x, y), () -> b.sigmoidForward(x, x), () -> b.sigmoidBackward(x, y, z),
                () -> b.sgdUpdate(x, y, 0.1));
    }

    @Test
    void operationsOnZeroElementsReachNoImplementation() {
        try (ProbeBackend probe = new ProbeBackend()) {
            for (Executable call : bufferSizedCalls(probe, 0)) {
                assertDoesNotThrow(call);
            }
            assertEquals(List.of(), probe.calls, "an empty operation must not be handed to the backend");
            for (Executable call : bufferSizedCalls(probe, 3)) {
                assertDoesNotThrow(call);
            }
            assertEquals(List.of("upload", "download", "sigmoidForward", "sigmoidForward", "sigmoidBackward",
                    "sgdUpdate"), probe.calls, "the same calls on 3 elements do reach it");
            // GEMM with k = 0 (C = beta C) is not empty: it still runs. m and n of 0 are refused (at least 1).
            probe.calls.clear();
            Buffer empty = probe.allocate(1).slice(0, 0);
            probe.gemm(false, false, 2, 2, 0, 1, empty, 1, empty, 2, 0.5, probe.allocate(4), 2);
            assertEquals(List.of("gemm"), probe.calls);
            rejectsArg("m", () -> probe.gemm(false, false, 0, 2, 1, 1, empty, 1, probe.allocate(2), 2, 0,
                    probe.allocate(2), 2));
            rejectsArg("n", () -> probe.gemm(false, false, 2, 0, 1, 1, probe.allocate(2), 1, empty, 1, 0,
                    probe.allocate(2), 1));
        }
    }

    @Test
    void zeroElementOperationsAreNoOpsOnTheCpuInBothPrecisions() {
        try (CpuBackend32 f32 = new CpuBackend32()) {
            for (Backend b : new Backend[] {be, f32}) {
                Buffer all = b.allocate(3);
                b.upload(new double[] {7, 8, 9}, all);
                Buffer e1 = all.slice(1, 0);
                Buffer e2 = all.slice(2, 0);
                b.sigmoidForward(e1, e2);
                b.sigmoidBackward(e1, e2, e1);
                b.sgdUpdate(e1, e2, 0.5);
                b.upload(new double[0], e1);
                assertArrayEquals(new double[0], b.download(e2));
                assertArrayEquals(new double[] {7, 8, 9}, b.download(all), b.description());
                // k = 0: C = beta * C, A and B unread.
                Buffer c = b.allocate(4);
                b.upload(new double[] {1, 2, 3, 4}, c);
                b.gemm(true, false, 2, 2, 0, 1, e1, 2, e2, 2, 0.5, c, 2);
                assertArrayEquals(new double[] {0.5, 1, 1.5, 2}, b.download(c), b.description());
            }
        }
    }

    @Test
    void hiddenSizesThatOverflowAreRejected() {
        Buffer one = be.allocate(1);
        rejectsArg("4 * hidden", () -> be.seedLstmCellForward(1, 1 << 30, one, one, one, one, one, one));
        rejectsArg("4 * hidden", () -> be.seedLstmCellBackward(1, 1 << 30, one, one, one, one, one, one, one));
    }
}
