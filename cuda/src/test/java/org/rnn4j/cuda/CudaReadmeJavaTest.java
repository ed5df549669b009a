package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.nn.ReadmeProgram;

/**
 * README.md's {@code ## Use from Java} program with the CUDA backend on the class path, on a machine with a usable
 * GPU: {@code DeviceRequest.AUTO} picks CUDA, and the program learns there as on the CPU ({@code ReadmeJavaTest}).
 */
@RequiresCuda
class CudaReadmeJavaTest {

    @Test
    void theReadmeProgramRunsOnTheGpu(@TempDir Path dir) throws Exception {
        ReadmeProgram.Run run = ReadmeProgram.compileAndRun(dir, 300);
        String printed = run.printed();
        System.out.println("README program printed:\n" + printed);
        assertEquals(0, run.exitStatus(), printed);
        assertTrue(printed.startsWith("device: ") && printed.contains("(cuda: "), "auto picks CUDA:\n" + printed);
        assertEquals(2, run.losses().size(), printed);
        assertTrue(run.losses().get(1) < run.losses().get(0) / 2, printed);
    }
}
