package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Precision;
import org.rnn4j.cuda.GemmChoice.Kind;
import org.rnn4j.cuda.GemmChoice.Setting;

/** RNN4J_GEMM and the per-precision defaults, without a GPU: {@link GemmChoice} is a pure function. */
class GemmChoiceTest {

    private static final String MISSING = "libcublas.so.12 not found";

    @Test
    void parsesEveryDocumentedValueAndTheOldAlias() {
        assertEquals(Setting.AUTO, GemmChoice.parse(null));
        assertEquals(Setting.AUTO, GemmChoice.parse(""));
        assertEquals(Setting.AUTO, GemmChoice.parse("  auto "));
        assertEquals(Setting.CUBLAS, GemmChoice.parse("cublas"));
        assertEquals(Setting.CUBLAS, GemmChoice.parse("cuBLAS"));
        assertEquals(Setting.FAST, GemmChoice.parse("FAST"));
        assertEquals(Setting.EXACT, GemmChoice.parse("exact"));
        assertEquals(Setting.EXACT, GemmChoice.parse("builtin"), "builtin stays an alias of exact");
    }

    @Test
    void rejectsAnythingElseNamingTheVariableAndTheValues() {
        for (String bad : new String[] {"fastest", "cublas12", "0", "built-in"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GemmChoice.parse(bad));
            assertEquals("RNN4J_GEMM must be auto, cublas, fast or exact (builtin = exact), got '" + bad + "'",
                    e.getMessage());
        }
    }

    @Test
    void defaultsAreCublasWhereItLoadsElseFastForFloat32AndExactForFloat64() {
        assertEquals(Kind.CUBLAS, GemmChoice.choose(Setting.AUTO, Precision.FLOAT32, null).kind());
        assertEquals(Kind.CUBLAS, GemmChoice.choose(Setting.AUTO, Precision.FLOAT64, null).kind());
        CudaProbe.GemmPath f32 = GemmChoice.choose(Setting.AUTO, Precision.FLOAT32, MISSING);
        CudaProbe.GemmPath f64 = GemmChoice.choose(Setting.AUTO, Precision.FLOAT64, MISSING);
        assertEquals(Kind.FAST, f32.kind());
        assertEquals(Kind.EXACT, f64.kind());
        assertTrue(f32.why().contains(MISSING), f32.why());
        assertEquals("GEMM: rnn4j exact kernel (the CPU's order, bit-identical), cuBLAS unavailable ("
                + MISSING + "); the float64 default without it, the parity reference", f64.line());
    }

    @Test
    void aForcedPathAppliesToBothPrecisions() {
        for (Precision p : Precision.values()) {
            for (String problem : new String[] {null, MISSING}) {
                assertEquals(Kind.FAST, GemmChoice.choose(Setting.FAST, p, problem).kind());
                assertEquals(Kind.EXACT, GemmChoice.choose(Setting.EXACT, p, problem).kind());
            }
            assertEquals(Kind.CUBLAS, GemmChoice.choose(Setting.CUBLAS, p, null).kind());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> GemmChoice.choose(Setting.CUBLAS, p, MISSING));
            assertEquals("RNN4J_GEMM=cublas but cuBLAS cannot be used: " + MISSING, e.getMessage());
        }
        assertEquals("GEMM: rnn4j fast kernel (register tiles, FMA), chosen by RNN4J_GEMM=fast",
                GemmChoice.choose(Setting.FAST, Precision.FLOAT64, null).line());
    }

    @Test
    void probedStateSaysWhetherCublasIsUsedAndLinesUpBothPrecisions() {
        GemmChoice.Probed withCublas = new GemmChoice.Probed(Setting.AUTO, null);
        assertTrue(withCublas.cublas());
        assertEquals("GEMM: cuBLAS (JCublas2), libcublas.so.12 loaded", withCublas.line());

        GemmChoice.Probed without = new GemmChoice.Probed(Setting.AUTO, MISSING);
        assertFalse(without.cublas());
        assertEquals("cuBLAS unavailable: " + MISSING, without.why());
        assertEquals(Kind.FAST, without.path(Precision.FLOAT32).kind());
        assertEquals(Kind.EXACT, without.path(Precision.FLOAT64).kind());
        assertEquals("GEMM: float32 rnn4j fast kernel (register tiles, FMA), float64 rnn4j exact kernel (the CPU's "
                + "order, bit-identical); cuBLAS unavailable: " + MISSING, without.line());

        GemmChoice.Probed exact = new GemmChoice.Probed(Setting.EXACT, null);
        assertFalse(exact.cublas(), "a forced kernel of our own means cuBLAS is not used");
        assertEquals(Kind.EXACT, exact.path(Precision.FLOAT32).kind());
    }

    @Test
    void theOldTwoPathConstructorMeansCublasOrExact() {
        assertEquals(Kind.CUBLAS, new CudaProbe.GemmPath(true, "x").kind());
        assertEquals(Kind.EXACT, new CudaProbe.GemmPath(false, "x").kind());
        assertTrue(new CudaProbe.GemmPath(true, "x").cublas());
        assertFalse(new CudaProbe.GemmPath(Kind.FAST, "x").cublas());
    }
}
