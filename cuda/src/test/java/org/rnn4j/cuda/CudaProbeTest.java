package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** The probe on any machine: it never throws, caches its answer, and explains itself in one line. */
class CudaProbeTest {

    @Test
    void probeAnswersOnceInOneLine() {
        CudaProbe.Result r = CudaProbe.get();
        assertSame(r, CudaProbe.get(), "the probe runs once per process");
        assertNotNull(r.reason());
        assertFalse(r.reason().isBlank());
        assertFalse(r.reason().contains("\n"), "one line: " + r.reason());
        if (r.usable()) {
            assertNotNull(r.gemm());
            assertTrue(r.devices().size() > 0);
        } else {
            assertEquals(null, r.device());
        }
    }

    @Test
    void jcudasLoadingErrorBecomesOneLine() {
        String jcuda = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\nArchitecture         : amd64\n"
                + "Stack trace from the attempt to load the library as a file:\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: "
                + "cannot open shared object file: No such file or directory\n\tat java.base/...";
        assertEquals("libcuda.so.1 not found",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(jcuda), "libcuda.so.1"));
        String other = jcuda.replace("libcuda.so.1: cannot", "libstdc++.so.6: cannot");
        assertEquals("libstdc++.so.6 not found",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(other), "libcuda.so.1"));
        assertEquals("something else", CudaProbe.libraryProblem(new UnsatisfiedLinkError("something else"), "x"));
    }

    @Test
    void aNoexecLibraryDirectoryIsNamedWithTheFix() {
        String jcuda = "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Stack trace from the attempt to load the library as a resource:\n"
                + "java.lang.UnsatisfiedLinkError: /m/native/libJCudaDriver-12.6.0-linux-x86_64.so: "
                + "/m/native/libJCudaDriver-12.6.0-linux-x86_64.so: failed to map segment from shared object\n"
                + "\tat java.base/...";
        assertEquals("cannot load /m/native/libJCudaDriver-12.6.0-linux-x86_64.so: its file system does not allow "
                + "loading code (mounted noexec?); set RNN4J_NATIVE_DIR to a directory on another",
                CudaProbe.libraryProblem(new UnsatisfiedLinkError(jcuda), "libcuda.so.1"));
    }

    @Test
    void theProbeNamesTheNativeLibraryDirectory() throws IOException {
        CudaProbe.Result r = CudaProbe.get();
        assertNotNull(r.nativeDir());
        assertTrue(Files.isSameFile(NativeLibraries.directory(), r.nativeDir()), r.nativeDir().toString());
    }

    @Test
    void driverVersionsReadAsCudaWritesThem() {
        assertEquals("13.0", CudaProbe.version(13000));
        assertEquals("12.6", CudaProbe.version(12060));
        assertEquals("unknown", CudaProbe.version(0));
    }
}
