package org.rnn4j.train;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.LongUnaryOperator;
import org.rnn4j.backend.Backend;

/**
 * The memory a training configuration needs, estimated before anything is allocated: the bytes of its backend's
 * buffers (device memory on a GPU, the Java heap on the CPU; the formulas of docs/memory.md, which MemoryTest checks
 * against the backend's live allocations) and the bytes of the Java arrays the trainer holds on the host (the
 * initial parameters as {@code double}s, the inputs, the downloaded outputs). Left out: the CPU GEMM's scratch space
 * and the JVM's own needs, so a configuration just under the limit may still run out.
 *
 * @param what         the configuration, for people ({@code lstm (seed cell), hidden 100, ...})
 * @param backendBytes bytes of the backend's buffers
 * @param hostBytes    bytes of the trainer's Java arrays
 */
public record MemoryNeed(String what, long backendBytes, long hostBytes) {

    private static final long GIB = 1L << 30;

    /**
     * Checks the byte counts.
     *
     * @param what         the configuration, for people
     * @param backendBytes bytes of the backend's buffers, not negative
     * @param hostBytes    bytes of the trainer's Java arrays, not negative
     * @throws IllegalArgumentException when a count is negative
     */
    public MemoryNeed {
        if (backendBytes < 0 || hostBytes < 0) {
            throw new IllegalArgumentException("byte counts must not be negative");
        }
    }

    /** What {@code elements} values of {@code elementBytes} each take, or an exception naming {@code what}. */
    static long bytes(long elements, int elementBytes, String what) {
        try {
            return Math.multiplyExact(elements, elementBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + " is too large: its size in bytes does not fit 64 bits");
        }
    }

    /**
     * The larger of the two needs in each place: for phases that run one after the other.
     *
     * @param other the other phase's need
     * @return this need's {@code what} with the larger byte count of each place
     */
    public MemoryNeed max(MemoryNeed other) {
        return new MemoryNeed(what, Math.max(backendBytes, other.backendBytes),
                Math.max(hostBytes, other.hostBytes));
    }

    /**
     * Refuses a configuration that cannot fit: on a backend whose buffers live in device memory
     * ({@link Backend#deviceFreeBytes()} known), the buffers against the device's free memory and the host arrays
     * against the Java heap; on the CPU both against the Java heap ({@code Runtime.maxMemory()} less what is in use,
     * after a garbage collection when that looks short).
     *
     * @param backend the backend the configuration would run on
     * @throws InsufficientMemoryException naming the bytes needed and available
     */
    public void require(Backend backend) {
        require(backend.deviceFreeBytes(), MemoryNeed::heapAvailable);
    }

    /** {@link #require(Backend)} with the device's free bytes and the heap's available bytes given. */
    void require(OptionalLong device, LongUnaryOperator heapAvailable) {
        if (device.isPresent() && backendBytes > device.getAsLong()) {
            throw new InsufficientMemoryException(what + " needs about " + describe(backendBytes)
                    + " of device memory, but the device has " + describe(device.getAsLong())
                    + " free; use smaller sizes", backendBytes, device.getAsLong(), false);
        }
        long heapNeed = device.isPresent() ? hostBytes : Math.addExact(backendBytes, hostBytes);
        long available = heapAvailable.applyAsLong(heapNeed);
        if (heapNeed > available) {
            String parts = device.isPresent() ? " for host arrays"
                    : String.format(Locale.ROOT, " (%,d for the backend's buffers, %,d for host arrays)",
                            backendBytes, hostBytes);
            throw new InsufficientMemoryException(what + " needs about " + describe(heapNeed) + " of Java heap"
                    + parts + ", but " + describe(Math.max(0, available)) + " are available; use smaller sizes or "
                    + "a larger heap: " + suggestedHeap(heapNeed), heapNeed, available, true);
        }
    }

    /**
     * Bytes the Java heap can still take: its limit ({@code Runtime.maxMemory}) less what is in use. Collects garbage
     * first when less than {@code wanted} seems free, so that garbage does not refuse a run.
     */
    static long heapAvailable(long wanted) {
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (free < wanted) {
            System.gc();
            free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        }
        return free;
    }

    /** A heap size that would hold what is in use now, {@code need} more, and a quarter again, in whole GiB. */
    private static String suggestedHeap(long need) {
        Runtime rt = Runtime.getRuntime();
        long used = rt.totalMemory() - rt.freeMemory();
        double wanted = (used + (double) need) * 1.25;
        long gib = (long) Math.ceil(wanted / GIB);
        return "JAVA_OPTS=-Xmx" + gib + "g";
    }

    /** {@code 1,234,567,890 bytes (1.1 GiB)}. */
    static String describe(long bytes) {
        return String.format(Locale.ROOT, "%,d bytes (%.1f GiB)", bytes, bytes / (double) GIB);
    }
}
