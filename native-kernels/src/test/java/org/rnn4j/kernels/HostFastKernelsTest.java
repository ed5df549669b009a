package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Compiles and runs {@code src/test/host/fast_kernels_test.cpp}: the fast GEMM ({@code gemm_fast.cu}) and the chunked
 * column sums ({@code reduce_chunks.cu}) run on the host under a block/thread emulation (every block, the threads in
 * lock-step phases between barriers, in three interleavings) over awkward shapes, against the sequential-FMA order bit
 * for bit, the exact value within the documented bound, and the CPU backends' sums bit for bit. Uses nvcc (compiling
 * the .cpp as host code) when there is one, else g++; skips, saying so, only when neither exists.
 */
class HostFastKernelsTest {

    @Test
    void fastGemmAndChunkedSumsMatchTheirReferencesUnderEmulation() throws Exception {
        Path nvcc = HostTools.nvcc();
        Path gxx = HostTools.find("g++");
        Assumptions.assumeTrue(nvcc != null || gxx != null,
                "neither nvcc (PATH, /usr/local/cuda/bin/nvcc) nor g++ (PATH) found: cannot compile the host "
                        + "fast-kernels test");
        Path base = KernelTestFiles.basedir();
        Path outDir = base.resolve("target/host-test");
        Files.createDirectories(outDir);
        Path exe = outDir.resolve("fast_kernels_test");
        List<String> cmd = new ArrayList<>();
        if (nvcc != null) {
            // A .cpp is host code to nvcc: it goes to the host compiler, without __CUDACC__ (so the .cu files it
            // includes contribute their __host__ __device__ bodies, not their kernels).
            cmd.addAll(List.of(nvcc.toString(), "-std=c++17", "-O2", "-Xcompiler", "-ffp-contract=off"));
        } else {
            cmd.addAll(List.of(gxx.toString(), "-std=c++17", "-O2", "-ffp-contract=off", "-Wall"));
        }
        cmd.addAll(List.of("-I", base.resolve("src/main/cuda").toString(), "-o", exe.toString(),
                base.resolve("src/test/host/fast_kernels_test.cpp").toString()));
        HostTools.run(cmd, base, 300, "compiling fast_kernels_test.cpp");
        String out = HostTools.run(List.of(exe.toString()), base, 600, "fast_kernels_test");
        assertTrue(out.contains(" 0 failed"), "fast_kernels_test reported failures:\n" + out);
        assertTrue(out.contains("fast_gemm_f32: 1008 cases") && out.contains("fast_gemm_f64: 1008 cases"),
                "every GEMM case ran:\n" + out);
    }
}
