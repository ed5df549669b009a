package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.spi.BackendProvider;

/** The CUDA backend, found by {@code --backend auto} through {@link java.util.ServiceLoader}. */
public final class CudaBackendProvider implements BackendProvider {

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        CudaProbe.Result r = CudaProbe.get();
        List<String> details = new ArrayList<>();
        for (CudaProbe.Device d : r.devices()) {
            details.add(d.line() + (r.usable() && d.ordinal() == r.chosen() ? "  (in use)" : ""));
        }
        if (r.driverVersion() > 0) {
            details.add("CUDA driver " + r.driverText());
        }
        if (r.nativeDir() != null) {
            details.add("JCuda native libraries: " + r.nativeDir() + " (" + NativeLibraries.DIR_ENV + " to change)");
        }
        if (!r.usable()) {
            return new Availability(false, r.reason(), details);
        }
        details.add(r.gemm().line());
        return Availability.usable(r.reason(), details);
    }

    @Override
    public Backend create(Precision precision) {
        CudaProbe.Result r = CudaProbe.get();
        if (!r.usable()) {
            throw new IllegalStateException("the CUDA backend cannot run here: " + r.reason());
        }
        return new CudaBackend(precision, r, r.gemm().path(precision));
    }

    /**
     * A backend with cuBLAS ({@code true}) or the exact kernel, for tests that check both paths on one machine.
     *
     * @param precision the element format of its buffers
     * @param cublas    whether to take cuBLAS's GEMM rather than the exact kernel
     * @return a new backend, which the caller must close
     * @throws IllegalStateException when CUDA is unusable, or cuBLAS is asked for and is not available
     */
    public static CudaBackend create(Precision precision, boolean cublas) {
        return create(precision, cublas ? GemmChoice.Kind.CUBLAS : GemmChoice.Kind.EXACT);
    }

    /**
     * A backend with a chosen GEMM path, for tests and benchmarks that compare paths on one machine.
     *
     * @param precision the element format of its buffers
     * @param kind      the GEMM path, whatever {@code RNN4J_GEMM} says
     * @return a new backend, which the caller must close
     * @throws IllegalStateException when CUDA is unusable, or {@code CUBLAS} is asked for and cuBLAS is not available
     */
    public static CudaBackend create(Precision precision, GemmChoice.Kind kind) {
        CudaProbe.Result r = CudaProbe.get();
        if (!r.usable()) {
            throw new IllegalStateException("the CUDA backend cannot run here: " + r.reason());
        }
        if (kind == GemmChoice.Kind.CUBLAS && !r.gemm().cublas()) {
            throw new IllegalStateException("cuBLAS is not available: " + r.gemm().why());
        }
        CudaProbe.GemmPath path = kind == GemmChoice.Kind.CUBLAS ? r.gemm().path(precision)
                : new CudaProbe.GemmPath(kind, "chosen by the caller");
        return new CudaBackend(precision, r, path);
    }
}
