package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PTX of the kernels, as the fatbins carry it (the manifest's flags, the manifest's {@code compute_*}
 * architecture): no float32 entry point of any family converts to double or does float64 arithmetic (no
 * {@code cvt.f64.f32}, no {@code .f64} instruction), except {@code rnn4j_adam_prepare_f32}, the one-thread kernel that
 * computes Adam's step scalars in double as PyTorch does; the float32 kernels with transcendental functions use fused
 * multiply-adds; the cross-entropy's row kernels reduce with warp shuffles; and the GEMMs use fused multiply-adds and
 * 16-byte vector loads from global and shared memory. Needs nvcc; skips, saying so, without it.
 */
class FastKernelsPtxTest {

    /** The PTX of one .entry, from its line to the next .entry (or the end). */
    private static String entry(String ptx, String name) {
        int at = ptx.indexOf(".entry " + name + "(");
        assertTrue(at >= 0, "no .entry " + name + " in the PTX");
        int next = ptx.indexOf(".entry ", at + 1);
        return ptx.substring(at, next < 0 ? ptx.length() : next);
    }

    private static Path ptx(Path nvcc, String family) throws Exception {
        Path base = KernelTestFiles.basedir();
        Path outDir = base.resolve("target/ptx-check");
        Files.createDirectories(outDir);
        List<String> cmd = new ArrayList<>(List.of(nvcc.toString(), "-ptx"));
        for (String flag : KernelImages.manifest().get("flags").split(" ")) {
            if (flag.equals("-gencode")) {
                break; // the base flags come first, then the architectures
            }
            cmd.add(flag);
        }
        List<String> archs = KernelImages.architectures();
        String virtual = archs.get(archs.size() - 1); // compute_121: the PTX the fatbins carry
        cmd.add("-arch=" + virtual);
        Path out = outDir.resolve(family + ".ptx");
        cmd.addAll(List.of("-o", out.toString(), family + ".cu"));
        HostTools.run(cmd, KernelTestFiles.cudaSources(), 300, "nvcc -ptx " + family + ".cu");
        return out;
    }

    /** The float32 entry point allowed to compute in double: Adam's step scalars, as PyTorch computes them. */
    private static final Set<String> DOUBLE_BY_DESIGN = Set.of("rnn4j_adam_prepare_f32");

    private static final Pattern ENTRY = Pattern.compile("\\.entry (rnn4j_\\w+)\\(");

    @Test
    void everyFloat32EntryPointStaysInFloat32() throws Exception {
        Path nvcc = HostTools.nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc not found (PATH, /usr/local/cuda/bin/nvcc): cannot generate the "
                + "kernels' PTX");
        Set<String> f32 = new TreeSet<>();
        Set<String> f64 = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String family : KernelImages.FAMILIES) {
            String ptx = Files.readString(ptx(nvcc, family));
            Matcher m = ENTRY.matcher(ptx);
            while (m.find()) {
                String name = m.group(1);
                if (name.endsWith("_f64")) {
                    f64.add(name.substring(0, name.length() - 4));
                    continue;
                }
                assertTrue(name.endsWith("_f32"), "entry point without a precision suffix: " + name);
                f32.add(name.substring(0, name.length() - 4));
                String body = entry(ptx, name);
                if (DOUBLE_BY_DESIGN.contains(name)) {
                    continue;
                }
                if (body.contains("cvt.f64.f32")) {
                    problems.add(family + ": " + name + " converts float to double (cvt.f64.f32)");
                } else if (body.contains(".f64")) {
                    problems.add(family + ": " + name + " has float64 instructions");
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
        assertTrue(f32.size() >= 30, "every family's entry points were found: " + f32);
        assertTrue(f32.equals(f64), "every entry point exists in both precisions: f32 " + f32 + ", f64 " + f64);
        System.out.println("float32 entry points without float64 (PTX, all families): " + (f32.size()
                - DOUBLE_BY_DESIGN.size()) + " of " + f32.size() + "; double by design: " + DOUBLE_BY_DESIGN);

        for (String[] fe : new String[][] {{"rnn_cell", "rnn4j_sigmoid_forward_f32"},
                {"seed_lstm_cell", "rnn4j_seed_lstm_forward_f32"},
                {"standard_lstm_cell", "rnn4j_standard_lstm_forward_f32"},
                {"standard_lstm_cell", "rnn4j_standard_lstm_backward_f32"},
                {"losses", "rnn4j_cross_entropy_forward_f32"}}) {
            String body = entry(Files.readString(outDir().resolve(fe[0] + ".ptx")), fe[1]);
            assertTrue(body.contains("fma.rn.f32"), fe[1] + " has no fma.rn.f32");
        }
        String losses = Files.readString(outDir().resolve("losses.ptx"));
        for (String name : List.of("rnn4j_cross_entropy_forward", "rnn4j_cross_entropy_backward",
                "rnn4j_cross_entropy_mean_partial")) {
            for (String suffix : List.of("_f32", "_f64")) {
                assertTrue(entry(losses, name + suffix).contains("shfl.sync.down"),
                        name + suffix + " reduces a row without warp shuffles");
            }
        }
    }

    private static Path outDir() {
        return KernelTestFiles.basedir().resolve("target/ptx-check");
    }

    @Test
    void float32KernelsStayInFloat32AndTheGemmsUseFmaAndVectorLoads() throws Exception {
        Path nvcc = HostTools.nvcc();
        Assumptions.assumeTrue(nvcc != null, "nvcc not found (PATH, /usr/local/cuda/bin/nvcc): cannot generate the "
                + "fast kernels' PTX");
        String gemm = Files.readString(ptx(nvcc, "gemm_fast"));
        String f32 = entry(gemm, "rnn4j_gemm_fast_f32");
        assertFalse(f32.contains("cvt.f64.f32"), "rnn4j_gemm_fast_f32 converts float to double");
        assertFalse(f32.contains(".f64"), "rnn4j_gemm_fast_f32 has float64 instructions");
        assertTrue(f32.contains("fma.rn.f32"), "rnn4j_gemm_fast_f32 has no fma.rn.f32");
        assertTrue(f32.contains("ld.global.v4.f32"), "rnn4j_gemm_fast_f32 has no 16-byte global loads");
        assertTrue(f32.contains("ld.shared.v4.f32"), "rnn4j_gemm_fast_f32 has no 16-byte shared loads");
        String f64 = entry(gemm, "rnn4j_gemm_fast_f64");
        assertTrue(f64.contains("fma.rn.f64"), "rnn4j_gemm_fast_f64 has no fma.rn.f64");
        assertTrue(f64.contains("ld.global.v2.f64"), "rnn4j_gemm_fast_f64 has no 16-byte global loads");

        String sums = Files.readString(ptx(nvcc, "reduce_chunks"));
        String s32 = entry(sums, "rnn4j_sum_rows_chunks_f32");
        assertFalse(s32.contains(".f64"), "rnn4j_sum_rows_chunks_f32 has float64 instructions");
        assertTrue(s32.contains("add.rn.f32") || s32.contains("add.f32"), "rnn4j_sum_rows_chunks_f32 adds in float");
    }
}
