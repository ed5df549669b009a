package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * The validation half of {@code rnn4j kernels}: every family, both precisions, every GEMM path this machine has, on
 * CUDA against the CPU reference ({@link KernelHarness}).
 */
@RequiresCuda
class KernelHarnessTest {

    @Test
    void everyKernelFamilyMatchesTheCpuReference() {
        StringWriter text = new StringWriter();
        KernelHarness.Outcome o = KernelHarness.run(KernelHarness.Options.all(true, false, true),
                new PrintWriter(text, true));
        System.out.print(text);
        assertTrue(o.cases() > 100, "cases run: " + o.cases());
        assertEquals(0, o.failed(), text.toString());
        assertTrue(text.toString().contains("validation: " + o.cases() + " cases, 0 failed"), text.toString());
    }
}
