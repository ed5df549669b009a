package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PTX of the fast kernels, as the fatbins carry it (the manifest's flags, the manifest's {@code compute_*}
 * architecture): the float32 GEMM and chunked-sum kernels do no float64 arithmetic at all (in particular no
 * {@code cvt.f64.f32}), and the GEMMs use fused multiply-adds and 16-byte vector loads from global and shared memory.
 * Needs nvcc; skips, saying so, without it.
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
