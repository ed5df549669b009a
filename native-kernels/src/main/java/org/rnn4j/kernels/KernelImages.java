package org.rnn4j.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compiled images of rnn4j's CUDA kernels: one fatbin per kernel family, carried in this jar as the classpath
 * resource {@code org/rnn4j/kernels/<family>.fatbin}, ready for {@code cuModuleLoadData}.
 *
 * <p>The ABI of the kernels (the {@code extern "C"} entry points {@code rnn4j_<op>_f32} / {@code _f64}, their
 * parameters, launch configurations and which arguments may alias) is documented in {@code native-kernels/README.md},
 * and the per-element math, shared with a host test, in {@code native-kernels/src/main/cuda/rnn4j_math.cuh}. The
 * fatbins are built by {@code native-kernels/build-kernels.sh --update} and described by the resource
 * {@code org/rnn4j/kernels/kernels.manifest} (nvcc version, flags, architectures, hashes of sources and fatbins).
 *
 * <p>The kernels compute exactly what {@code org.rnn4j.backend.cpu.CpuBackend64} / {@code CpuBackend32} compute, in
 * the same order of evaluation, compiled without fused multiply-add ({@code -fmad=false}).
 */
public final class KernelImages {

    /** The kernel families, one fatbin each (and one {@code .cu} file each in {@code native-kernels/src/main/cuda}). */
    public static final List<String> FAMILIES = List.of("rnn_cell", "seed_lstm_cell", "standard_lstm_cell", "losses",
            "reduce", "sgd", "gemm", "embedding", "dropout", "optim", "gemm_fast", "reduce_chunks");

    /** Threads per block ({@code blockDim.x}) of every elementwise kernel's 1-D launch. */
    public static final int ELEMENTWISE_BLOCK = 256;

    /** Threads per row of the cross-entropy kernels (one warp per row, rows packed 8 to a block of 256). */
    public static final int CROSS_ENTROPY_LANES = 32;

    /** Tile edge of the fallback GEMM: blocks of {@code (GEMM_TILE, GEMM_TILE, 1)} threads. */
    public static final int GEMM_TILE = 16;

    /** Threads per block edge of the fast GEMM ({@code gemm_fast}): blocks of {@code (16, 16, 1)} threads. */
    public static final int FAST_GEMM_THREADS = 16;

    /**
     * The square tile of C one block of the fast GEMM computes: 128 for float32 (8x8 per thread), 64 for float64
     * (4x4 per thread); the grid is {@code (ceil(n / tile), ceil(m / tile), 1)}.
     *
     * @param float32 whether the kernel is the float32 entry point ({@code rnn4j_gemm_fast_f32}) rather than float64
     * @return the tile edge, in elements of C
     */
    public static int fastGemmTile(boolean float32) {
        return float32 ? 128 : 64;
    }

    /** Classpath folder of the fatbins and the manifest. */
    static final String RESOURCE_DIR = "org/rnn4j/kernels/";

    /** Classpath resource of the manifest written by {@code build-kernels.sh --update}. */
    static final String MANIFEST = RESOURCE_DIR + "kernels.manifest";

    private KernelImages() {
    }

    /**
     * The fatbin of one family, read from the classpath resource {@code org/rnn4j/kernels/<family>.fatbin}.
     *
     * @param family one of {@link #FAMILIES}
     * @return the fatbin's bytes, a new array on every call
     * @throws IllegalArgumentException naming the family, if it is not one of {@link #FAMILIES}
     * @throws IllegalStateException if the resource is missing from the classpath
     */
    public static byte[] fatbin(String family) {
        if (family == null || !FAMILIES.contains(family)) {
            throw new IllegalArgumentException("unknown kernel family '" + family + "'; known: " + FAMILIES);
        }
        return readResource(RESOURCE_DIR + family + ".fatbin");
    }

    /**
     * The architectures the fatbins hold code for, as recorded in the manifest: the real ones with machine code
     * ({@code "sm_75"}, {@code "sm_80"}, ...) and then the virtual one whose PTX they carry ({@code "compute_121"}).
     *
     * @return the architecture names, in the manifest's order, unmodifiable
     * @throws IllegalStateException if the manifest is missing or records no architectures
     */
    public static List<String> architectures() {
        String line = manifest().get("architectures");
        if (line == null || line.isBlank()) {
            throw new IllegalStateException(MANIFEST + " records no architectures");
        }
        return List.of(line.trim().split("\\s+"));
    }

    /** The manifest's {@code key=value} lines in file order (comments starting with {@code #} and blanks left out). */
    static Map<String, String> manifest() {
        String text = new String(readResource(MANIFEST), StandardCharsets.UTF_8);
        Map<String, String> entries = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new IllegalStateException(MANIFEST + ": malformed line '" + l + "'");
            }
            entries.put(l.substring(0, eq), l.substring(eq + 1));
        }
        return entries;
    }

    private static byte[] readResource(String name) {
        ClassLoader loader = KernelImages.class.getClassLoader();
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(name)
                                             : loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("classpath resource " + name + " is missing (is rnn4j-native-kernels"
                        + " on the classpath, and were its fatbins built with native-kernels/build-kernels.sh --update?)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading classpath resource " + name, e);
        }
    }
}
