package org.rnn4j.backend.cpu;

import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.spi.BackendProvider;

/** The CPU backend: always usable, the reference and the fallback. */
public final class CpuBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        Runtime rt = Runtime.getRuntime();
        return Availability.usable("Java, blocked GEMM on " + CpuGemm.threadsText()
                + " (system property " + CpuGemm.THREADS_PROPERTY + "); OpenBLAS for products of at least "
                + CpuGemm.FAST_MIN_WORK + " multiply-adds (" + CpuGemm.ROUTE_ENV + "=auto|java|fast)",
                List.of(String.format(
                "%s %s on %s/%s, %d cores visible, max heap %d MiB",
                System.getProperty("java.vm.name"), System.getProperty("java.version"),
                System.getProperty("os.name"), System.getProperty("os.arch"),
                rt.availableProcessors(), rt.maxMemory() >> 20)));
    }

    @Override
    public Backend create(Precision precision) {
        return precision == Precision.FLOAT64 ? new CpuBackend64() : new CpuBackend32();
    }
}
