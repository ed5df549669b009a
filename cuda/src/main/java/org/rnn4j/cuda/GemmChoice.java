package org.rnn4j.cuda;

import java.util.Locale;
import org.rnn4j.backend.Precision;

/**
 * Which GEMM path a CUDA backend uses: the decision from {@code RNN4J_GEMM}, the precision and whether cuBLAS loads,
 * as a pure function (no CUDA needed, so it is tested anywhere).
 *
 * <ul>
 *   <li>{@link Kind#CUBLAS}: {@code cublasSgemm} / {@code cublasDgemm} through JCublas2 ({@code libcublas.so.12});</li>
 *   <li>{@link Kind#FAST}: rnn4j's fast kernel ({@code gemm_fast}): register tiles, vector loads, double-buffered
 *       shared memory, fused multiply-add; deterministic, within the bound of {@code native-kernels/README.md};</li>
 *   <li>{@link Kind#EXACT}: rnn4j's exact kernel ({@code gemm}): the CPU's order and roundings, bit-identical.</li>
 * </ul>
 * Defaults ({@code RNN4J_GEMM} unset, empty or {@code auto}): cuBLAS when it loads; otherwise float32 takes the fast
 * kernel and float64 the exact one (float64 runs are the parity reference). {@code RNN4J_GEMM=cublas|fast|exact}
 * forces one for both precisions ({@code builtin} is the earlier name of {@code exact}); {@code cublas} where cuBLAS
 * cannot load makes CUDA unusable, with the reason.
 */
public final class GemmChoice {

    /** A GEMM implementation. */
    public enum Kind {
        /** NVIDIA's {@code cublasSgemm} / {@code cublasDgemm} through JCublas2; the default when it loads. */
        CUBLAS("cuBLAS (JCublas2)"),
        /** rnn4j's fast kernel {@code gemm_fast}: deterministic, with fused multiply-add, not the CPU's bits. */
        FAST("rnn4j fast kernel (register tiles, FMA)"),
        /** rnn4j's exact kernel {@code gemm}: the CPU's order of evaluation and roundings, bit-identical. */
        EXACT("rnn4j exact kernel (the CPU's order, bit-identical)");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /**
         * The name people see in {@code rnn4j devices} and a backend's description.
         *
         * @return the label, such as {@code cuBLAS (JCublas2)}
         */
        public String label() {
            return label;
        }
    }

    /** The values of {@code RNN4J_GEMM}. */
    public enum Setting {
        /** Unset, empty or {@code auto}: cuBLAS when it loads, else the fast kernel (float32) or exact (float64). */
        AUTO,
        /** {@code cublas}: cuBLAS for both precisions; CUDA is unusable where it does not load. */
        CUBLAS,
        /** {@code fast}: the fast kernel for both precisions; cuBLAS is not loaded. */
        FAST,
        /** {@code exact} (or {@code builtin}): the exact kernel for both precisions; cuBLAS is not loaded. */
        EXACT
    }

    private GemmChoice() {
    }

    /**
     * Parses {@code RNN4J_GEMM} (case and surrounding blanks ignored).
     *
     * @param value the variable's value; null or blank means {@link Setting#AUTO}
     * @return the setting
     * @throws IllegalArgumentException naming the variable and the accepted values, for anything else
     */
    public static Setting parse(String value) {
        String s = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        switch (s) {
            case "":
            case "auto":
                return Setting.AUTO;
            case "cublas":
                return Setting.CUBLAS;
            case "fast":
                return Setting.FAST;
            case "exact":
            case "builtin":
                return Setting.EXACT;
            default:
                throw new IllegalArgumentException(CudaProbe.GEMM_ENV + " must be auto, cublas, fast or exact "
                        + "(builtin = exact), got '" + value + "'");
        }
    }

    /**
     * The path for one precision.
     *
     * @param setting       what {@code RNN4J_GEMM} asks for
     * @param precision     the backend's precision, which decides the default without cuBLAS
     * @param cublasProblem null when cuBLAS loads here, else why not
     * @return the path and why it was chosen
     * @throws IllegalStateException when the setting demands cuBLAS and it cannot be used (with the reason)
     */
    public static CudaProbe.GemmPath choose(Setting setting, Precision precision, String cublasProblem) {
        String env = CudaProbe.GEMM_ENV;
        switch (setting) {
            case CUBLAS:
                if (cublasProblem != null) {
                    throw new IllegalStateException(env + "=cublas but cuBLAS cannot be used: " + cublasProblem);
                }
                return new CudaProbe.GemmPath(Kind.CUBLAS, "libcublas.so.12 loaded (" + env + "=cublas)");
            case FAST:
                return new CudaProbe.GemmPath(Kind.FAST, "chosen by " + env + "=fast");
            case EXACT:
                return new CudaProbe.GemmPath(Kind.EXACT, "chosen by " + env + "=exact");
            default:
                if (cublasProblem == null) {
                    return new CudaProbe.GemmPath(Kind.CUBLAS, "libcublas.so.12 loaded");
                }
                return precision == Precision.FLOAT32
                        ? new CudaProbe.GemmPath(Kind.FAST, "cuBLAS unavailable (" + cublasProblem
                                + "); the float32 default without it")
                        : new CudaProbe.GemmPath(Kind.EXACT, "cuBLAS unavailable (" + cublasProblem
                                + "); the float64 default without it, the parity reference");
        }
    }

    /**
     * What the probe found: the setting and cuBLAS's state, from which each precision's path follows. {@link #cublas()}
     * and {@link #why()} keep the meaning they had before there were two paths of our own: whether cuBLAS is used.
     *
     * @param setting       what {@code RNN4J_GEMM} asked for
     * @param cublasProblem null when cuBLAS loads here, else why not (or that it was not loaded)
     */
    public record Probed(Setting setting, String cublasProblem) {
        /**
         * The path a backend of this precision uses.
         *
         * @param precision the backend's precision
         * @return the path, as {@link #choose} decides it
         * @throws IllegalStateException when the setting demands cuBLAS and it cannot be used
         */
        public CudaProbe.GemmPath path(Precision precision) {
            return choose(setting, precision, cublasProblem);
        }

        /**
         * Whether the backends use cuBLAS (it loads, and the setting does not force one of our kernels).
         *
         * @return true when cuBLAS is the GEMM of both precisions
         */
        public boolean cublas() {
            return cublasProblem == null && (setting == Setting.AUTO || setting == Setting.CUBLAS);
        }

        /**
         * Why cuBLAS is or is not used.
         *
         * @return one line for people
         */
        public String why() {
            if (cublasProblem != null) {
                return "cuBLAS unavailable: " + cublasProblem;
            }
            return cublas() ? "libcublas.so.12 loaded" : "libcublas.so.12 loaded but " + CudaProbe.GEMM_ENV + "="
                    + setting.name().toLowerCase(Locale.ROOT);
        }

        /**
         * One line for {@code rnn4j devices}: each precision's path, and why.
         *
         * @return the common path's line, or both precisions' kinds when they differ
         */
        public String line() {
            CudaProbe.GemmPath f32 = path(Precision.FLOAT32);
            CudaProbe.GemmPath f64 = path(Precision.FLOAT64);
            if (f32.kind() == f64.kind()) {
                return f32.line();
            }
            return "GEMM: float32 " + f32.kind().label() + ", float64 " + f64.kind().label() + "; " + why();
        }
    }
}
