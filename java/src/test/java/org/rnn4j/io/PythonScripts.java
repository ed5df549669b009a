package org.rnn4j.io;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the committed Python scripts under tools/ for cross-checks; skips the calling test when Python is missing. */
public final class PythonScripts {

    private PythonScripts() {
    }

    /** The result of one run. */
    public record Result(int exitCode, String stdout, String stderr) {
    }

    /**
     * The repository's tools/ directory, found upwards from the working directory.
     *
     * @return its path
     */
    public static Path tools() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("tools/safetensors_numpy.py"))) {
                return p.resolve("tools");
            }
        }
        throw new IllegalStateException("no tools/ directory above " + Path.of("").toAbsolutePath());
    }

    /**
     * Skips the calling test (with the reason) unless {@code python3} runs here and, when asked, has numpy.
     *
     * @param numpy whether numpy is needed
     */
    public static void assumePython(boolean numpy) {
        Result r;
        try {
            r = run(List.of("python3", "-c", numpy ? "import numpy" : "pass"), null);
        } catch (IOException e) {
            r = null;
        }
        assumeTrue(r != null, "python3 is not on the PATH: the cross-check with the Python reference is skipped");
        assumeTrue(r.exitCode() == 0, "python3 cannot " + (numpy ? "import numpy" : "run") + " ("
                + r.stderr().strip() + "): the cross-check with the Python reference is skipped");
    }

    /**
     * Runs {@code python3 tools/SCRIPT ARGS...}.
     *
     * @param script the script's file name under tools/
     * @param args its arguments
     * @return exit code and outputs
     * @throws IOException when python3 cannot be started
     */
    public static Result script(String script, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("python3", tools().resolve(script).toString()));
        command.addAll(List.of(args));
        return run(command, null);
    }

    private static Result run(List<String> command, Path dir) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Path out = Files.createTempFile("rnn4j-python", ".out");
        Path err = Files.createTempFile("rnn4j-python", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("python3 did not finish in 120 s: " + command);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
