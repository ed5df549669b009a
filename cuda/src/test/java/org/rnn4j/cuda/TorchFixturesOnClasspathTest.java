package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.cpu.CpuBackend64;
import org.rnn4j.net.TorchFixtures;

/**
 * Runs without a GPU: the PyTorch fixtures that {@link CudaLstmLayerTorchTest} needs are found on this module's
 * test class path (the core's test jar) and the CPU reference passes them here too, so a skipped GPU test is skipped
 * for want of a GPU only.
 */
class TorchFixturesOnClasspathTest {

    @Test
    void fixturesLoadFromTheCoreTestJarAndTheCpuMatchesThem() {
        List<TorchFixtures.Case> cases = TorchFixtures.cases();
        assertEquals(5, cases.size());
        for (TorchFixtures.Case c : cases) {
            try (Backend backend = new CpuBackend64()) {
                for (TorchFixtures.Deviation d : TorchFixtures.compareAll(c, TorchFixtures.run(backend, c),
                        TorchFixtures.RTOL, TorchFixtures.ATOL)) {
                    assertEquals(0, d.bad(), () -> c.name() + ": " + d.line());
                }
            }
        }
    }
}
