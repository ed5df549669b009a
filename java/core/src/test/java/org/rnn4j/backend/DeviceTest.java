package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rnn4j.backend.cpu.CpuBackend32;
import org.rnn4j.backend.cpu.CpuBackend64;

/**
 * {@link Device#open} in the core module, where no GPU backend is on the class path (the CUDA module's tests cover it
 * there): auto falls back to the CPU and says why, cuda is a checked {@link DeviceUnavailableException} with the reason,
 * cpu just works; and the {@code float[]} and {@code int[]} transfers of {@link Backend}.
 */
class DeviceTest {

    @ParameterizedTest
    @EnumSource(Precision.class)
    void autoFallsBackToTheCpuAndSaysWhy(Precision p) throws DeviceUnavailableException {
        try (Device d = Device.open(DeviceRequest.AUTO, p)) {
            assertEquals("cpu", d.backend().name());
            assertEquals(p, d.backend().precision());
            assertTrue(d.fellBack());
            assertEquals("using the CPU backend: this build has no GPU backend", d.reason());
            assertEquals(DeviceRequest.AUTO, d.request());
        }
    }

    @Test
    void cpuIsAlwaysThere() throws DeviceUnavailableException {
        Device d = Device.open(DeviceRequest.CPU, Precision.FLOAT64);
        Backend b = d.backend();
        assertFalse(d.fellBack());
        assertEquals("cpu requested", d.reason());
        assertTrue(b instanceof CpuBackend64);
        d.close();
        assertThrows(IllegalStateException.class, () -> b.allocate(1), "closing the device closes its backend");
    }

    @Test
    void cudaWhereItCannotRunIsACheckedExceptionWithTheReason() {
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class,
                () -> Device.open(DeviceRequest.CUDA, Precision.FLOAT32));
        assertEquals(DeviceRequest.CUDA, e.request());
        assertTrue(e.getMessage().startsWith("backend cuda cannot run here: this build has no CUDA backend"),
                e.getMessage());
        assertTrue(e.getMessage().contains("org.rnn4j:rnn4j-cuda"), e.getMessage());
    }

    @Test
    void requestsParseAndBadArgumentsAreNamed() {
        assertEquals(DeviceRequest.CUDA, DeviceRequest.parse("CUDA"));
        assertEquals(DeviceRequest.AUTO, DeviceRequest.parse("auto"));
        assertEquals("cpu", DeviceRequest.CPU.cliName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceRequest.parse("tpu"));
        assertEquals("unknown backend 'tpu' (expected auto, cpu or cuda)", e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Device.open(null, Precision.FLOAT32))
                .getMessage().contains("request"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Device.open(DeviceRequest.CPU, null))
                .getMessage().contains("precision"));
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void floatAndIndexTransfers(Precision p) {
        try (Backend be = p == Precision.FLOAT32 ? new CpuBackend32() : new CpuBackend64()) {
            Buffer b = be.allocate(3);
            float[] src = {9f, 0.1f, -2.5f, Float.MIN_VALUE, 7f};
            be.uploadFloats(src, 1, b);
            assertArrayEquals(new double[] {0.1f, -2.5f, Float.MIN_VALUE}, be.download(b), 0,
                    "floats are exact in both precisions");
            float[] back = new float[5];
            be.downloadFloats(b, back, 2);
            assertArrayEquals(new float[] {0, 0, 0.1f, -2.5f, Float.MIN_VALUE}, back, 0);
            assertArrayEquals(new float[] {0.1f, -2.5f, Float.MIN_VALUE}, be.downloadFloats(b), 0);
            be.uploadIndices(new int[] {4, 0, 16777216, 3}, 0, b);
            assertArrayEquals(new double[] {4, 0, 16777216}, be.download(b), 0);
            assertMessage("src holds 2 values; cannot read 3 from offset 0",
                    () -> be.uploadFloats(new float[2], 0, b));
            assertMessage("dst holds 4 values; cannot write 3 at offset 2", () -> be.downloadFloats(b, new float[4], 2));
            assertMessage("src must not be null", () -> be.uploadIndices(null, 0, b));
            assertMessage("src[2] = -1 is not an index (negative)",
                    () -> be.uploadIndices(new int[] {0, 1, -1}, 0, b));
            if (p == Precision.FLOAT32) {
                assertMessage("src[1] = 16777217 is not an index exact in float32",
                        () -> be.uploadIndices(new int[] {0, 16777217, 1}, 0, b));
            } else {
                be.uploadIndices(new int[] {0, Integer.MAX_VALUE, 1}, 0, b);
                assertEquals(Integer.MAX_VALUE, be.download(b)[1]);
            }
        }
    }

    private static void assertMessage(String part, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should contain '" + part + "'");
    }
}
