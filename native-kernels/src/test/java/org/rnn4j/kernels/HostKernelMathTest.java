package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Compiles and runs {@code src/test/host/kernel_math_test.cpp}, which checks every per-element body of
 * {@code rnn4j_math.cuh} (the kernels' math) on the host against independent long-double formulas and bit for bit
 * against the Java CPU reference's order of evaluation. Uses nvcc (compiling the .cpp as host code) when there is one,
 * else g++; skips, saying so, only when neither exists.
 */
class HostKernelMathTest {

    private static Path findExecutable(String name, String... fallbacks) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        for (String f : fallbacks) {
            Path p = Path.of(f);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    private static String run(List<String> command, Path dir, long timeoutSeconds, String what)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out;
        try (var in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(what + " did not finish in " + timeoutSeconds + " s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println("$ " + String.join(" ", command));
        System.out.print(text);
        assertEquals(0, p.exitValue(), what + " failed (exit " + p.exitValue() + "):\n" + text);
        return text;
    }

    @Test
    void kernelMathMatchesReferenceFormulas() throws Exception {
        Path nvcc = findExecutable("nvcc", "/usr/local/cuda/bin/nvcc");
        Path gxx = findExecutable("g++");
        Assumptions.assumeTrue(nvcc != null || gxx != null,
                "neither nvcc (PATH, /usr/local/cuda/bin/nvcc) nor g++ (PATH) found: cannot compile the host kernel-math test");
        Path base = KernelTestFiles.basedir();
        Path outDir = base.resolve("target/host-test");
        Files.createDirectories(outDir);
        Path exe = outDir.resolve("kernel_math_test");
        List<String> cmd = new ArrayList<>();
        if (nvcc != null) {
            // A .cpp is host code to nvcc: it goes to the host compiler, without __CUDACC__.
            cmd.addAll(List.of(nvcc.toString(), "-std=c++17", "-O2", "-Xcompiler", "-ffp-contract=off"));
        } else {
            cmd.addAll(List.of(gxx.toString(), "-std=c++17", "-O2", "-ffp-contract=off", "-Wall"));
        }
        cmd.addAll(List.of("-I", base.resolve("src/main/cuda").toString(), "-o", exe.toString(),
                base.resolve("src/test/host/kernel_math_test.cpp").toString()));
        run(cmd, base, 300, "compiling kernel_math_test.cpp");
        String out = run(List.of(exe.toString()), base, 300, "kernel_math_test");
        assertTrue(out.contains(" 0 failed"), "kernel_math_test reported failures:\n" + out);
    }
}
