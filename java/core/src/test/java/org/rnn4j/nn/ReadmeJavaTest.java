package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The program in README.md's {@code ## Use from Java} section compiles against the library and runs
 * ({@link ReadmeProgram}): it prints the device, a first loss, a last loss below half of it, and a prediction; and the
 * section comes right after Quick start. So the README cannot rot.
 */
class ReadmeJavaTest {

    @Test
    void theSectionComesRightAfterQuickStart() throws Exception {
        List<String> headings = new ArrayList<>();
        for (String line : ReadmeProgram.readme().split("\n")) {
            if (line.startsWith("## ")) {
                headings.add(line);
            }
        }
        int quick = headings.indexOf("## Quick start");
        assertTrue(quick >= 0, headings.toString());
        assertEquals(ReadmeProgram.SECTION, headings.get(quick + 1), headings.toString());
    }

    @Test
    void theProgramCompilesRunsAndLearns(@TempDir Path dir) throws Exception {
        ReadmeProgram.Run run = ReadmeProgram.compileAndRun(dir, 300);
        String printed = run.printed();
        System.out.println("README program printed:\n" + printed);
        assertEquals(0, run.exitStatus(), "exit status (-1: killed after 300 s):\n" + printed);
        assertTrue(printed.startsWith("device: CPU"), printed);
        assertTrue(printed.contains("using the CPU backend"), "the reason of the fallback:\n" + printed);
        assertEquals(2, run.losses().size(), "a loss at the start and at the end:\n" + printed);
        double start = run.losses().get(0);
        double end = run.losses().get(1);
        assertTrue(start > 1, "the first loss is about log(vocab): " + start);
        assertTrue(end < start / 2, "the loss falls below half: " + start + " -> " + end);
        assertTrue(printed.contains("predicted"), printed);
    }
}
