package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BackendProvider;
import org.rnn4j.backend.Precision;

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
        return new CudaBackend(precision, r, r.gemm());
    }

    /** A backend with a chosen GEMM path, for tests that check both paths on one machine. */
    public static CudaBackend create(Precision precision, boolean cublas) {
        CudaProbe.Result r = CudaProbe.get();
        if (!r.usable()) {
            throw new IllegalStateException("the CUDA backend cannot run here: " + r.reason());
        }
        CudaProbe.GemmPath path = cublas ? r.gemm() : new CudaProbe.GemmPath(false, "chosen by the caller");
        if (cublas && !path.cublas()) {
            throw new IllegalStateException("cuBLAS is not available: " + path.why());
        }
        return new CudaBackend(precision, r, path);
    }
}
