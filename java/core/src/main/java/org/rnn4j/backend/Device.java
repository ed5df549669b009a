package org.rnn4j.backend;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.spi.BackendProvider;

/**
 * The one way to choose where a model runs: {@link #open(DeviceRequest, Precision)} gives an open {@link Backend} and
 * a line saying why it was chosen. {@link DeviceRequest#AUTO} takes the CUDA backend when one is on the class path
 * (artifact {@code org.rnn4j:rnn4j-cuda}) and can run here, else falls back to the CPU and says why
 * ({@link #fellBack()}, {@link #reason()}); {@link DeviceRequest#CUDA} where CUDA cannot run throws
 * {@link DeviceUnavailableException}; {@link DeviceRequest#CPU} always succeeds.
 *
 * <pre>{@code
 * try (Device device = Device.open(DeviceRequest.AUTO, Precision.FLOAT32)) {
 *     System.out.println(device.backend().description() + " (" + device.reason() + ")");
 *     Backend backend = device.backend();
 *     ...
 * }
 * }</pre>
 *
 * <p>Closing the device closes its backend. Not thread-safe, like the backend: one thread at a time.
 */
public final class Device implements AutoCloseable {

    private final Backend backend;
    private final DeviceRequest request;
    private final String reason;
    private final boolean fellBack;

    private Device(Backend backend, DeviceRequest request, String reason, boolean fellBack) {
        this.backend = backend;
        this.request = request;
        this.reason = reason;
        this.fellBack = fellBack;
    }

    /**
     * Opens a backend as asked.
     *
     * @param request   auto, cpu or cuda
     * @param precision float32 or float64
     * @return the device, its backend open
     * @throws DeviceUnavailableException when {@link DeviceRequest#CUDA} was asked and cannot run here (no CUDA
     *                                    backend on the class path, no usable driver or GPU, or it failed to start)
     * @throws IllegalArgumentException   when an argument is null
     */
    public static Device open(DeviceRequest request, Precision precision) throws DeviceUnavailableException {
        if (request == null) {
            throw new IllegalArgumentException("request must not be null");
        }
        if (precision == null) {
            throw new IllegalArgumentException("precision must not be null");
        }
        List<BackendProvider> all = Backends.providers();
        BackendProvider cpu = all.get(0);
        switch (request) {
            case CPU:
                return new Device(cpu.create(precision), request, "cpu requested", false);
            case CUDA: {
                BackendProvider cuda = find(all, "cuda");
                if (cuda == null) {
                    throw new DeviceUnavailableException(request, "backend cuda cannot run here: this build has no "
                            + "CUDA backend (org.rnn4j:rnn4j-cuda is not on the class path)");
                }
                BackendProvider.Availability a = cuda.availability();
                if (!a.usable()) {
                    throw new DeviceUnavailableException(request, "backend cuda cannot run here: " + a.reason());
                }
                try {
                    return new Device(cuda.create(precision), request, "cuda: " + a.reason(), false);
                } catch (RuntimeException e) {
                    throw new DeviceUnavailableException(request, "backend cuda cannot run here: it failed to "
                            + "start: " + e.getMessage(), e);
                }
            }
            default: {
                List<String> whyNot = new ArrayList<>();
                for (BackendProvider p : all) {
                    if (p == cpu) {
                        continue;
                    }
                    BackendProvider.Availability a = p.availability();
                    if (!a.usable()) {
                        whyNot.add(p.name() + ": " + a.reason());
                        continue;
                    }
                    try {
                        return new Device(p.create(precision), request, p.name() + ": " + a.reason(), false);
                    } catch (RuntimeException e) {
                        whyNot.add(p.name() + ": failed to start: " + e.getMessage());
                    }
                }
                String note = whyNot.isEmpty()
                        ? "using the CPU backend: this build has no GPU backend"
                        : "using the CPU backend: no usable GPU backend (" + String.join("; ", whyNot) + ")";
                return new Device(cpu.create(precision), request, note, true);
            }
        }
    }

    private static BackendProvider find(List<BackendProvider> all, String name) {
        for (BackendProvider p : all) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** @return the open backend; closed with this device */
    public Backend backend() {
        return backend;
    }

    /** @return what was asked for */
    public DeviceRequest request() {
        return request;
    }

    /**
     * One line for people: why this backend. After a fallback it says what the GPU backends lacked ({@code using the
     * CPU backend: no usable GPU backend (cuda: ...)}); otherwise what was found ({@code cuda: <the device>}) or
     * {@code cpu requested}.
     *
     * @return the reason
     */
    public String reason() {
        return reason;
    }

    /** @return whether {@link DeviceRequest#AUTO} fell back to the CPU because no GPU backend could run */
    public boolean fellBack() {
        return fellBack;
    }

    /** Closes the backend (and every buffer still on it). Idempotent. */
    @Override
    public void close() {
        backend.close();
    }

    @Override
    public String toString() {
        return backend.name() + " (" + reason + ")";
    }
}
