package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;

/**
 * The standard LSTM cell operations ({@link Backend#standardLstmCellForward}, {@link Backend#standardLstmCellBackward})
 * of both CPU backends against their documented formulas, written out here in plain double-precision Java, in the
 * style of {@link CpuBackendOpsTest}: random inputs from fixed seeds, awkward shapes, {@code |got - ref| <= atol +
 * rtol * |ref|} per element, the first mismatches listed; on root buffers and on views at odd offsets between NaN
 * guards; in place where allowed; outputs written in full (they start as NaN or as garbage) and inputs untouched.
 *
 * <p>Tolerances as {@link CpuBackendOpsTest}'s elementwise ones: float64 rtol 1e-12 / atol 1e-14; float32 rtol 16u /
 * atol 64u ({@code u = 2^-24}): each result is a short chain of float roundings on O(1) values, the activations within
 * 6.5u of exact ({@link CpuActivations32}'s approximations, {@link CpuActivations32Test}), the longest {@code h = o * tanh(f * cPrev + i * g)} and {@code df = dc * cPrev * f * (1 - f)}.
 */
class StandardCellOpsTest {

    private record Tol(double rtol, double atol) {
    }

    private static Tol elementwise(Precision p) {
        return p == Precision.FLOAT64 ? new Tol(1e-12, 1e-14) : new Tol(16 * 0x1p-24, 64 * 0x1p-24);
    }

    private static final int SHOW = 8;
    private static final int[][] ROW_SHAPES = {{1, 1}, {1, 7}, {3, 1}, {3, 17}, {17, 3}, {64, 33}, {33, 64}};

    /** The documented gate order [i | f | g | o], spelled out here rather than taken from the code under test. */
    private static final int I = 0;
    private static final int F = 1;
    private static final int G = 2;
    private static final int O = 3;

    static Stream<Arguments> precisionsAndLayouts() {
        return Stream.of(Precision.values()).flatMap(p -> Stream.of(Arguments.of(p, false), Arguments.of(p, true)));
    }

    private static void assertClose(String what, double[] got, double[] ref, Tol tol, IntFunction<String> index) {
        assertEquals(ref.length, got.length, what + ": length");
        StringBuilder shown = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double diff = Math.abs(got[i] - ref[i]);
            boolean ok = got[i] == ref[i] || diff <= tol.atol() + tol.rtol() * Math.abs(ref[i]);
            if (!ok) {
                if (bad < SHOW) {
                    shown.append(String.format("%n  %s got %.17g ref %.17g |diff| %.3g", index.apply(i), got[i],
                            ref[i], diff));
                }
                bad++;
            }
        }
        if (bad > 0) {
            fail(String.format("%s: %d of %d elements outside |got - ref| <= atol + rtol*|ref| (rtol %.3g, atol %.3g);"
                    + " first %d:%s", what, bad, ref.length, tol.rtol(), tol.atol(), Math.min(bad, SHOW), shown));
        }
    }

    private static void assertClose(String what, double[] got, double[] ref, Tol tol) {
        assertClose(what, got, ref, tol, i -> "[" + i + "]");
    }

    private static void assertSameBits(String what, double[] got, double[] want) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            if (Double.doubleToLongBits(got[i]) != Double.doubleToLongBits(want[i])) {
                fail(what + ": [" + i + "] got " + got[i] + " want " + want[i]);
            }
        }
    }

    /** Roots, or views at odd offsets in shared chunks whose other elements hold NaN and must keep it. */
    private static final class Mem {
        private static final int GUARD = 3;
        private static final int CHUNK = 1 << 15;
        private final Backend be;
        private final boolean views;
        private final List<Buffer> chunks = new ArrayList<>();
        private final List<List<int[]>> used = new ArrayList<>();
        private int next;

        Mem(Backend be, boolean views) {
            this.be = be;
            this.views = views;
        }

        Buffer take(int len) {
            if (!views) {
                return be.allocate(len);
            }
            if (chunks.isEmpty() || next + len + GUARD > chunks.get(chunks.size() - 1).length()) {
                int size = Math.max(CHUNK, len + 2 * GUARD);
                Buffer chunk = be.allocate(size);
                be.upload(filled(size, Double.NaN), chunk);
                chunks.add(chunk);
                used.add(new ArrayList<>());
                next = GUARD;
            }
            Buffer view = chunks.get(chunks.size() - 1).slice(next, len);
            used.get(used.size() - 1).add(new int[] {next, next + len});
            next += len + GUARD;
            return view;
        }

        Buffer of(double[] values) {
            Buffer b = take(values.length);
            be.upload(values, b);
            return b;
        }

        Buffer nan(int len) {
            return of(filled(len, Double.NaN));
        }

        void assertGuardsIntact() {
            for (int c = 0; c < chunks.size(); c++) {
                double[] all = be.download(chunks.get(c));
                boolean[] inView = new boolean[all.length];
                for (int[] r : used.get(c)) {
                    Arrays.fill(inView, r[0], r[1], true);
                }
                for (int i = 0; i < all.length; i++) {
                    if (!inView[i] && !Double.isNaN(all[i])) {
                        fail("chunk " + c + " [" + i + "] outside every view was written: " + all[i]);
                    }
                }
            }
        }
    }

    private static Backend backend(Precision p) {
        return new CpuBackendProvider().create(p);
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    private static double[] uniform(SplittableRandom rng, int n, double lo, double hi) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rng.nextDouble(lo, hi);
        }
        return a;
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static String label(String op, Precision p, boolean views, int batch, int hidden) {
        return op + " " + p + (views ? " views" : " roots") + " batch=" + batch + " hidden=" + hidden;
    }

    private static IntFunction<String> gateIndex(int hidden) {
        int h4 = 4 * hidden;
        return i -> String.format("[%d] (b=%d, gate %s, unit %d)", i, i / h4, "ifgo".charAt(i % h4 / hidden),
                i % hidden);
    }

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void standardLstmCellForward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(41);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : ROW_SHAPES) {
                int batch = shape[0];
                int hidden = shape[1];
                int h4 = 4 * hidden;
                String at = label("standardLstmCellForward", p, views, batch, hidden);
                double[] preH = uniform(rng, batch * h4, -2, 2);
                Buffer preact = mem.of(preH);
                Buffer biasIh = mem.of(uniform(rng, h4, -1, 1));
                Buffer biasHh = mem.of(uniform(rng, h4, -1, 1));
                Buffer cPrev = mem.of(uniform(rng, batch * hidden, -2, 2));
                Buffer gates = mem.nan(batch * h4);
                Buffer c = mem.nan(batch * hidden);
                Buffer h = mem.nan(batch * hidden);
                double[] z = be.download(preact);
                double[] bi = be.download(biasIh);
                double[] bh = be.download(biasHh);
                double[] cp = be.download(cPrev);

                double[] refGates = new double[batch * h4];
                double[] refC = new double[batch * hidden];
                double[] refH = new double[batch * hidden];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < hidden; j++) {
                        double[] act = new double[4];
                        for (int q : new int[] {I, F, G, O}) {
                            int k = q * hidden + j;
                            double zz = z[r * h4 + k] + bi[k] + bh[k];
                            act[q] = q == G ? Math.tanh(zz) : sigmoid(zz);
                            refGates[r * h4 + k] = act[q];
                        }
                        int x = r * hidden + j;
                        refC[x] = act[F] * cp[x] + act[I] * act[G];
                        refH[x] = act[O] * Math.tanh(refC[x]);
                    }
                }

                be.standardLstmCellForward(batch, hidden, preact, biasIh, biasHh, cPrev, gates, c, h);
                assertClose(at + ": gates", be.download(gates), refGates, elementwise(p), gateIndex(hidden));
                assertClose(at + ": c", be.download(c), refC, elementwise(p));
                assertClose(at + ": h", be.download(h), refH, elementwise(p));
                assertSameBits(at + ": preact unchanged", be.download(preact), z);
                assertSameBits(at + ": biasIh unchanged", be.download(biasIh), bi);
                assertSameBits(at + ": biasHh unchanged", be.download(biasHh), bh);
                assertSameBits(at + ": cPrev unchanged", be.download(cPrev), cp);

                Buffer both = mem.of(preH);
                Buffer c2 = mem.of(uniform(rng, batch * hidden, 50, 60));
                Buffer h2 = mem.nan(batch * hidden);
                be.standardLstmCellForward(batch, hidden, both, biasIh, biasHh, cPrev, both, c2, h2);
                assertClose(at + " in place (gates == preact): gates", be.download(both), refGates, elementwise(p),
                        gateIndex(hidden));
                assertClose(at + " in place: c", be.download(c2), refC, elementwise(p));
                assertClose(at + " in place: h", be.download(h2), refH, elementwise(p));
            }
            mem.assertGuardsIntact();
        }
    }

    /** Post-activation gates as the forward makes them: i, f, o in (0, 1), g in (-1, 1). */
    private static double[] randomGates(SplittableRandom rng, int batch, int hidden) {
        double[] g = new double[batch * 4 * hidden];
        for (int i = 0; i < g.length; i++) {
            boolean tanhGate = i % (4 * hidden) / hidden == G;
            g[i] = tanhGate ? rng.nextDouble(-1, 1) : rng.nextDouble(0, 1);
        }
        return g;
    }

    @ParameterizedTest(name = "{0} views={1}")
    @MethodSource("precisionsAndLayouts")
    void standardLstmCellBackward(Precision p, boolean views) {
        SplittableRandom rng = new SplittableRandom(42);
        try (Backend be = backend(p)) {
            Mem mem = new Mem(be, views);
            for (int[] shape : ROW_SHAPES) {
                int batch = shape[0];
                int hidden = shape[1];
                int h4 = 4 * hidden;
                int len = batch * hidden;
                String at = label("standardLstmCellBackward", p, views, batch, hidden);
                Buffer gates = mem.of(randomGates(rng, batch, hidden));
                Buffer c = mem.of(uniform(rng, len, -2, 2));
                Buffer cPrev = mem.of(uniform(rng, len, -2, 2));
                Buffer dh = mem.of(uniform(rng, len, -2, 2));
                double[] dcNextH = uniform(rng, len, -2, 2);
                Buffer dcNext = mem.of(dcNextH);
                Buffer dPreact = mem.nan(batch * h4);
                Buffer dcPrev = mem.nan(len);
                double[] gv = be.download(gates);
                double[] cv = be.download(c);
                double[] cpv = be.download(cPrev);
                double[] dhv = be.download(dh);
                double[] dcnv = be.download(dcNext);

                double[] refDz = new double[batch * h4];
                double[] refDcPrev = new double[len];
                for (int r = 0; r < batch; r++) {
                    for (int j = 0; j < hidden; j++) {
                        double i = gv[r * h4 + I * hidden + j];
                        double f = gv[r * h4 + F * hidden + j];
                        double g = gv[r * h4 + G * hidden + j];
                        double o = gv[r * h4 + O * hidden + j];
                        int x = r * hidden + j;
                        double tc = Math.tanh(cv[x]);
                        double dc = dhv[x] * o * (1 - tc * tc) + dcnv[x];
                        refDz[r * h4 + I * hidden + j] = dc * g * i * (1 - i);
                        refDz[r * h4 + F * hidden + j] = dc * cpv[x] * f * (1 - f);
                        refDz[r * h4 + G * hidden + j] = dc * i * (1 - g * g);
                        refDz[r * h4 + O * hidden + j] = dhv[x] * tc * o * (1 - o);
                        refDcPrev[x] = dc * f;
                    }
                }

                be.standardLstmCellBackward(batch, hidden, gates, c, cPrev, dh, dcNext, dPreact, dcPrev);
                assertClose(at + ": dPreact", be.download(dPreact), refDz, elementwise(p), gateIndex(hidden));
                assertClose(at + ": dcPrev", be.download(dcPrev), refDcPrev, elementwise(p));
                assertSameBits(at + ": gates unchanged", be.download(gates), gv);
                assertSameBits(at + ": c unchanged", be.download(c), cv);
                assertSameBits(at + ": cPrev unchanged", be.download(cPrev), cpv);
                assertSameBits(at + ": dh unchanged", be.download(dh), dhv);
                assertSameBits(at + ": dcNext unchanged", be.download(dcNext), dcnv);

                Buffer carried = mem.of(dcNextH);
                Buffer dPreact2 = mem.of(uniform(rng, batch * h4, 50, 60)); // written, not accumulated
                be.standardLstmCellBackward(batch, hidden, gates, c, cPrev, dh, carried, dPreact2, carried);
                assertClose(at + " in place (dcPrev == dcNext): dcPrev", be.download(carried), refDcPrev,
                        elementwise(p));
                assertClose(at + " in place: dPreact", be.download(dPreact2), refDz, elementwise(p),
                        gateIndex(hidden));
            }
            mem.assertGuardsIntact();
        }
    }

    /** The cell with zero state and zero carried gradient, by hand: a case small enough to check every number. */
    @Test
    void handComputedSingleUnit() {
        try (Backend be = new CpuBackend64()) {
            // z = preact + biasIh + biasHh = [0.5, -1, 0.25, 2] for [i, f, g, o]
            Buffer preact = be.allocate(4);
            be.upload(new double[] {0.25, -0.5, 0.0, 1.0}, preact);
            Buffer bih = be.allocate(4);
            be.upload(new double[] {0.125, -0.25, 0.125, 0.5}, bih);
            Buffer bhh = be.allocate(4);
            be.upload(new double[] {0.125, -0.25, 0.125, 0.5}, bhh);
            Buffer cPrev = be.allocate(1);
            be.upload(new double[] {0.75}, cPrev);
            Buffer gates = be.allocate(4);
            Buffer c = be.allocate(1);
            Buffer h = be.allocate(1);
            be.standardLstmCellForward(1, 1, preact, bih, bhh, cPrev, gates, c, h);
            double i = sigmoid(0.5);
            double f = sigmoid(-1);
            double g = Math.tanh(0.25);
            double o = sigmoid(2);
            double cell = f * 0.75 + i * g;
            assertEquals(i, be.download(gates)[0], 1e-15);
            assertEquals(f, be.download(gates)[1], 1e-15);
            assertEquals(g, be.download(gates)[2], 1e-15);
            assertEquals(o, be.download(gates)[3], 1e-15);
            assertEquals(cell, be.download(c)[0], 1e-15);
            assertEquals(o * Math.tanh(cell), be.download(h)[0], 1e-15);

            // Backward with dh = 1 and no carried gradient: the derivatives of h with respect to z and cPrev.
            Buffer dh = be.allocate(1);
            be.upload(new double[] {1}, dh);
            Buffer zero = be.allocate(1);
            Buffer dz = be.allocate(4);
            Buffer dcPrev = be.allocate(1);
            be.standardLstmCellBackward(1, 1, gates, c, cPrev, dh, zero, dz, dcPrev);
            double tc = Math.tanh(cell);
            double dc = o * (1 - tc * tc);
            double[] want = {dc * g * i * (1 - i), dc * 0.75 * f * (1 - f), dc * i * (1 - g * g), tc * o * (1 - o)};
            double[] got = be.download(dz);
            for (int k = 0; k < 4; k++) {
                assertEquals(want[k], got[k], 1e-15, "dz " + "ifgo".charAt(k));
            }
            assertEquals(dc * f, be.download(dcPrev)[0], 1e-15);
            assertTrue(Math.abs(dc * f) > 0.01);
            assertThrows(IllegalArgumentException.class,
                    () -> be.standardLstmCellBackward(1, 1, gates, c, cPrev, dh, zero, dz, dz.slice(0, 1)));
        }
    }
}
