package org.rnn4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Finding and running the host compilers for the host tests of the kernels. */
final class HostTools {

    private HostTools() {
    }

    /** An executable on PATH, else the first fallback that exists; null if none. */
    static Path find(String name, String... fallbacks) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
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

    static Path nvcc() {
        return find("nvcc", "/usr/local/cuda/bin/nvcc");
    }

    /** Runs a command, echoes it and its output, fails the test on a non-zero exit; returns the output. */
    static String run(List<String> command, Path dir, long timeoutSeconds, String what)
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
}
