package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cuda/device-check.sh}'s summary of a step's log ({@code log_result}, also {@code device-check.sh log-result}):
 * it must never fail. Under the script's {@code set -euo pipefail} a log without a summarising line made the whole
 * run end, with no summary, right after a step that had passed (the PyTorch comparison, whose table rows end with the
 * per-round ratios); on a lent GPU machine that loses the rest of the check. Needs bash, as the script does.
 */
class DeviceCheckScriptTest {

    private static final Path SCRIPT = Path.of("device-check.sh").toAbsolutePath();

    private record Result(int exit, String out) {
    }

    private static Result bash(Path dir, String... args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(args).directory(dir.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash did not finish");
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static Result logResult(Path dir, List<String> lines) throws IOException, InterruptedException {
        Path log = dir.resolve("step.log");
        Files.write(log, lines, StandardCharsets.UTF_8);
        return bash(dir, "bash", SCRIPT.toString(), "log-result", log.toString());
    }

    @Test
    void aLogWithoutASummarisingLineGivesNothingAndDoesNotFail(@TempDir Path dir) throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT + " missing");
        Result r = logResult(dir, List.of("PyTorch 2.11 (cuda, ...)", "load average before: 1.0", "no ratio here"));
        assertEquals(0, r.exit(), r.out());
        assertEquals("", r.out().strip());
    }

    @Test
    void theCallerSurvivesUnderPipefail(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("empty.log"), "nothing to report\n");
        // The function as the run defines it, called as `step` calls it, in a shell with the script's options.
        Result r = bash(dir, "bash", "-c", "set -euo pipefail; source <(sed -n '/^log_result()/,/^}/p' \"$0\"); "
                + "r=\"$(log_result empty.log)\"; echo \"survived [$r]\"", SCRIPT.toString());
        assertEquals(0, r.exit(), r.out());
        assertEquals("survived []", r.out().strip());
    }

    @Test
    void ratioRowsTestCountsAndTimingsAreSummarised(@TempDir Path dir) throws Exception {
        Result r = logResult(dir, List.of(
                " size batch steps          torch       rnn4j   ratio      GEMMs  ratios per round",
                "  512    64   100 TF32 off  12.00 ms    10.00 ms   1.20x        -  1.20 1.10 1.30",
                "[        14 tests skipped      ]",
                "[         0 tests failed       ]",
                "lstm backend=cuda precision=float32 size=512 batch=64 steps=100 repeats=5 median_s=1.0e-02"));
        assertEquals(0, r.exit(), r.out());
        String line = r.out().strip();
        assertTrue(line.contains("1.20x"), line);
        assertTrue(line.contains("14 tests skipped"), line);
        assertTrue(!line.contains("0 tests failed"), line);
        assertTrue(line.startsWith("512 64 100 TF32 off 12.00 ms 10.00 ms 1.20x"), line); // spaces squeezed
        assertEquals(120, r.out().replaceAll("\n$", "").length(), "cut to 120 characters: " + r.out());
    }

    @Test
    void manyMatchingLinesAreCutWithoutFailing(@TempDir Path dir) throws Exception {
        List<String> lines = new java.util.ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            lines.add("gemm size=" + i + " median_s=1e-3");
        }
        Result r = logResult(dir, lines);
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().strip().length() <= 120, r.out());
        assertTrue(r.out().startsWith("gemm size=0 median_s=1e-3;gemm size=1"), r.out());
    }

    @Test
    void logResultNeedsOneFile(@TempDir Path dir) throws Exception {
        Result r = bash(dir, "bash", SCRIPT.toString(), "log-result");
        assertEquals(2, r.exit(), r.out());
        assertTrue(r.out().contains("log-result takes one log file"), r.out());
    }
}
