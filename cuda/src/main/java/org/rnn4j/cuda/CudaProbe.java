package org.rnn4j.cuda;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import org.rnn4j.kernels.KernelImages;

/**
 * Finds out, once per process, whether the CUDA backend can run here and why not when it cannot: the driver library,
 * the devices, whether the driver can load rnn4j's kernels on the chosen device, and which GEMM path is available.
 *
 * <p>JCuda loads its native library in a static initialiser: when {@code libcuda.so.1} is missing that throws
 * {@link UnsatisfiedLinkError}, and every later touch of the class throws {@link NoClassDefFoundError}. So the probe
 * touches JCuda once, catches {@link LinkageError}, and keeps the reason; nothing else touches JCuda unless the probe
 * said the backend is usable. JCuda's first touches (the driver binding, and cuBLAS's) go through
 * {@code NativeLibraries.load}, so its libraries come from a private directory, checked against the jar.
 */
public final class CudaProbe {

    /** Environment variable choosing the device by ordinal (default 0). */
    public static final String DEVICE_ENV = "RNN4J_CUDA_DEVICE";
    /**
     * Environment variable choosing the GEMM path: {@code auto} (default), {@code cublas}, {@code fast} or
     * {@code exact} ({@code builtin} = {@code exact}); see {@link GemmChoice}.
     */
    public static final String GEMM_ENV = "RNN4J_GEMM";

    /**
     * One CUDA device as the driver reports it.
     *
     * @param ordinal         the driver's device number, as {@link #DEVICE_ENV} chooses it
     * @param name            the device's name ({@code cuDeviceGetName})
     * @param major           the compute capability's major version
     * @param minor           the compute capability's minor version
     * @param totalBytes      the device's total memory in bytes
     * @param multiprocessors the number of streaming multiprocessors
     */
    public record Device(int ordinal, String name, int major, int minor, long totalBytes, int multiprocessors) {
        /**
         * The real architecture of this device, as nvcc and the kernel manifest name it.
         *
         * @return {@code sm_<major><minor>}, e.g. {@code sm_90}
         */
        public String arch() {
            return "sm_" + major + minor;
        }

        /**
         * One line for {@code rnn4j devices}.
         *
         * @return ordinal, name, compute capability, memory in GiB and SM count
         */
        public String line() {
            return String.format(Locale.ROOT, "cuda:%d  %s  compute capability %d.%d (%s)  %.1f GiB  %d SMs",
                    ordinal, name, major, minor, arch(), totalBytes / (double) (1L << 30), multiprocessors);
        }
    }

    /**
     * The GEMM path a backend will use, and why.
     *
     * @param kind the implementation
     * @param why  one line for people: what chose it
     */
    public record GemmPath(GemmChoice.Kind kind, String why) {
        /**
         * Checks the kind.
         *
         * @param kind the implementation, not null
         * @param why  what chose it
         * @throws IllegalArgumentException when {@code kind} is null
         */
        public GemmPath {
            if (kind == null) {
                throw new IllegalArgumentException("kind must not be null");
            }
        }

        /**
         * cuBLAS, or else the exact kernel (the two paths there were before the fast kernel).
         *
         * @param cublas whether the path is cuBLAS rather than the exact kernel
         * @param why    what chose it
         */
        public GemmPath(boolean cublas, String why) {
            this(cublas ? GemmChoice.Kind.CUBLAS : GemmChoice.Kind.EXACT, why);
        }

        /**
         * Whether the path is cuBLAS.
         *
         * @return true for {@link GemmChoice.Kind#CUBLAS}
         */
        public boolean cublas() {
            return kind == GemmChoice.Kind.CUBLAS;
        }

        /**
         * One line for {@code rnn4j devices} and a backend's description.
         *
         * @return {@code GEMM: <label>, <why>}
         */
        public String line() {
            return "GEMM: " + kind.label() + ", " + why;
        }
    }

    /**
     * What the probe found. {@code reason} says why the backend is unusable, or summarises what will run. Devices and the
     * driver version are filled in as far as the probe got.
     *
     * @param usable        whether the CUDA backend can run here
     * @param reason        why not, or a summary of what will run, in one line
     * @param driverVersion the driver's CUDA version as {@code cuDriverGetVersion} gives it (12040 for 12.4), or 0
     *                      when unknown
     * @param devices       the devices found, possibly none
     * @param chosen        the index in {@code devices} of the device to use ({@link #DEVICE_ENV}), or -1 when unusable
     * @param gemm          the GEMM setting and cuBLAS's state, or null when unusable
     * @param nativeDir     where JCuda's native libraries were loaded from, or null
     */
    public record Result(boolean usable, String reason, int driverVersion, List<Device> devices, int chosen,
                         GemmChoice.Probed gemm, Path nativeDir) {
        /**
         * Keeps an unmodifiable copy of the devices.
         *
         * @param usable        whether the backend can run
         * @param reason        why not, or a summary
         * @param driverVersion the driver's version number, or 0
         * @param devices       the devices found, not null
         * @param chosen        the index of the device to use
         * @param gemm          the GEMM setting and cuBLAS's state
         * @param nativeDir     JCuda's native-library directory
         */
        public Result {
            devices = List.copyOf(devices);
        }

        /**
         * The device the backend will use.
         *
         * @return the chosen device, or null when the backend is unusable
         */
        public Device device() {
            return usable ? devices.get(chosen) : null;
        }

        /**
         * The driver's CUDA version for people.
         *
         * @return {@code major.minor}, such as {@code 12.4}, or {@code unknown}
         */
        public String driverText() {
            return driverVersion <= 0 ? "unknown"
                    : (driverVersion / 1000) + "." + (driverVersion % 1000) / 10;
        }
    }

    private static Result cached;

    private CudaProbe() {
    }

    /** The directory JCuda's libraries come from (set by the probe); null before it, or when it was refused. */
    private static Path nativeDir;

    /**
     * The probe's answer, computed on first use. Never throws.
     *
     * @return the same result for the life of the process
     */
    public static synchronized Result get() {
        if (cached == null) {
            // Without a driver, extracting and loading JCuda's library only to see it fail took 0.2-0.3 s of every
            // short CPU run: when libcuda.so.1 is plainly absent, say so without touching JCuda.
            cached = driverPlainlyAbsent(System.getenv("LD_LIBRARY_PATH"), Path.of("/etc/ld.so.cache"), DRIVER_DIRS)
                    ? new Result(false, "no NVIDIA driver (libcuda.so.1 not found)", 0, List.of(), -1, null, null)
                    : probe(NativeLibraries.directory(), System.getenv(DEVICE_ENV), System.getenv(GEMM_ENV));
        }
        return cached;
    }

    static Result probe(Path nativeDirectory, String deviceSetting, String gemmSetting) {
        int driver;
        List<Device> devices = new ArrayList<>();
        Path dir;
        try {
            dir = NativeLibraries.prepareDirectory(nativeDirectory);
        } catch (NativeLibraries.Problem e) {
            return new Result(false, e.getMessage(), 0, devices, -1, null, nativeDirectory);
        }
        synchronized (CudaProbe.class) {
            nativeDir = dir;
        }
        try {
            NativeLibraries.load(dir, NativeLibraries.DRIVER, () -> JCudaDriver.setExceptionsEnabled(true));
            int[] v = new int[1];
            JCudaDriver.cuDriverGetVersion(v);
            driver = v[0];
        } catch (NativeLibraries.Problem e) {
            return unusable(e.getMessage(), 0, devices);
        } catch (LinkageError e) {
            return unusable(driverMissing(e), 0, devices);
        } catch (CudaException e) {
            return unusable("the CUDA driver failed: " + e.getMessage(), 0, devices);
        }
        try {
            JCudaDriver.cuInit(0);
        } catch (CudaException e) {
            String m = String.valueOf(e.getMessage());
            String why = m.contains("CUDA_ERROR_NO_DEVICE") ? "no CUDA device found (driver " + version(driver) + ")"
                    : m.contains("CUDA_ERROR_STUB_LIBRARY") ? "libcuda.so.1 is the CUDA toolkit's stub, not a driver"
                    : "the CUDA driver " + version(driver) + " failed to initialise: " + m;
            return unusable(why, driver, devices);
        }
        try {
            int[] count = new int[1];
            JCudaDriver.cuDeviceGetCount(count);
            for (int i = 0; i < count[0]; i++) {
                devices.add(describe(i));
            }
        } catch (CudaException e) {
            return unusable("cannot list the CUDA devices: " + e.getMessage(), driver, devices);
        }
        if (devices.isEmpty()) {
            return unusable("no CUDA device found (driver " + version(driver) + ")", driver, devices);
        }
        int chosen;
        try {
            chosen = deviceSetting == null || deviceSetting.isBlank() ? 0 : Integer.parseInt(deviceSetting.trim());
        } catch (NumberFormatException e) {
            return unusable(DEVICE_ENV + " must be a device number, got '" + deviceSetting + "'", driver, devices);
        }
        if (chosen < 0 || chosen >= devices.size()) {
            return unusable(DEVICE_ENV + "=" + chosen + " but there " + (devices.size() == 1 ? "is 1 device"
                    : "are " + devices.size() + " devices"), driver, devices);
        }
        Device device = devices.get(chosen);
        CUdevice handle = new CUdevice();
        CUcontext context = new CUcontext();
        try {
            JCudaDriver.cuDeviceGet(handle, chosen);
            JCudaDriver.cuDevicePrimaryCtxRetain(context, handle);
        } catch (CudaException e) {
            return unusable("cannot open " + device.name() + ": " + e.getMessage(), driver, devices);
        }
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            String kernels = loadKernels(device, driver);
            if (kernels != null) {
                return unusable(kernels, driver, devices);
            }
            GemmChoice.Setting setting;
            try {
                setting = GemmChoice.parse(gemmSetting);
            } catch (IllegalArgumentException e) {
                return unusable(e.getMessage(), driver, devices);
            }
            // cuBLAS is probed unless a kernel of our own is forced (then it is never loaded).
            String cublas = setting == GemmChoice.Setting.FAST || setting == GemmChoice.Setting.EXACT
                    ? "not loaded (" + GEMM_ENV + "=" + setting.name().toLowerCase(Locale.ROOT) + ")" : cublasProblem();
            if (setting == GemmChoice.Setting.CUBLAS && cublas != null) {
                return unusable(GEMM_ENV + "=cublas but cuBLAS cannot be used: " + cublas, driver, devices);
            }
            GemmChoice.Probed gemm = new GemmChoice.Probed(setting, cublas);
            return new Result(true, device.name() + " (" + device.arch() + "), driver " + version(driver),
                    driver, devices, chosen, gemm, nativeDir());
        } finally {
            JCudaDriver.cuDevicePrimaryCtxRelease(handle);
        }
    }

    /** Where drivers put libcuda.so.1 besides the loader's cache: distributions, CUDA's compat, WSL, containers. */
    static final List<String> DRIVER_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64",
            "/lib64", "/usr/lib", "/lib", "/usr/lib/aarch64-linux-gnu", "/usr/local/cuda/compat",
            "/usr/local/cuda/lib64", "/usr/lib/wsl/lib", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib");

    /**
     * True only when {@code libcuda.so.1} is plainly not there, cheaply: Linux, the dynamic loader's cache readable
     * and not naming it, and no such file in {@code LD_LIBRARY_PATH}'s directories nor in {@code dirs}. Anything
     * unsure (another OS, no readable cache) answers false, and the full probe runs.
     */
    static boolean driverPlainlyAbsent(String ldLibraryPath, Path ldCache, List<String> dirs) {
        if (!System.getProperty("os.name", "").startsWith("Linux")) {
            return false;
        }
        try {
            byte[] cache = java.nio.file.Files.readAllBytes(ldCache);
            if (new String(cache, java.nio.charset.StandardCharsets.ISO_8859_1).contains("libcuda.so.1")) {
                return false;
            }
        } catch (java.io.IOException | RuntimeException e) {
            return false;
        }
        List<String> all = new ArrayList<>(dirs);
        if (ldLibraryPath != null) {
            for (String d : ldLibraryPath.split(":")) {
                all.add(d.isEmpty() ? "." : d);
            }
        }
        for (String d : all) {
            if (java.nio.file.Files.exists(Path.of(d, "libcuda.so.1"))) {
                return false;
            }
        }
        return true;
    }

    private static Result unusable(String reason, int driver, List<Device> devices) {
        return new Result(false, reason, driver, devices, -1, null, nativeDir());
    }

    private static synchronized Path nativeDir() {
        return nativeDir;
    }

    private static Device describe(int ordinal) {
        CUdevice d = new CUdevice();
        JCudaDriver.cuDeviceGet(d, ordinal);
        byte[] name = new byte[256];
        JCudaDriver.cuDeviceGetName(name, name.length, d);
        int len = 0;
        while (len < name.length && name[len] != 0) {
            len++;
        }
        long[] mem = new long[1];
        JCudaDriver.cuDeviceTotalMem(mem, d);
        return new Device(ordinal, new String(name, 0, len, StandardCharsets.UTF_8),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
                mem[0], attribute(d, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    }

    private static int attribute(CUdevice d, int attribute) {
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, attribute, d);
        return v[0];
    }

    /** Loads every kernel family on the current context and unloads it again; null when all load. */
    private static String loadKernels(Device device, int driver) {
        for (String family : KernelImages.FAMILIES) {
            CUmodule module = new CUmodule();
            try {
                JCudaDriver.cuModuleLoadData(module, KernelImages.fatbin(family));
            } catch (CudaException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("NO_BINARY_FOR_GPU") || m.contains("UNSUPPORTED_PTX_VERSION")
                        || m.contains("INVALID_PTX") || m.contains("INVALID_IMAGE")) {
                    return "the kernels cannot run on " + device.name() + " (" + device.arch() + "): they hold "
                            + "machine code for " + String.join(", ", KernelImages.architectures())
                            + " and the driver (" + version(driver) + ") cannot compile their PTX (" + m
                            + "); a newer driver may help";
                }
                return "cannot load the " + family + " kernels: " + m;
            } catch (RuntimeException e) {
                return "cannot read the " + family + " kernels: " + e.getMessage();
            }
            JCudaDriver.cuModuleUnload(module);
        }
        return null;
    }

    private static String cublasProblemCache;
    private static boolean cublasProbed;

    /** Null when JCublas2 loads and a handle can be created on the current context, else why not. */
    static synchronized String cublasProblem() {
        if (!cublasProbed) {
            cublasProbed = true;
            try {
                Path dir = nativeDir();
                if (dir == null) {
                    return cublasProblemCache = "the CUDA probe has not prepared JCuda's native libraries";
                }
                NativeLibraries.load(dir, NativeLibraries.CUBLAS, () -> JCublas2.setExceptionsEnabled(true));
                cublasHandle h = new cublasHandle();
                JCublas2.cublasCreate(h);
                JCublas2.cublasDestroy(h);
            } catch (NativeLibraries.Problem e) {
                cublasProblemCache = e.getMessage();
            } catch (LinkageError e) {
                cublasProblemCache = libraryProblem(e, "libcublas.so.12");
            } catch (RuntimeException e) {
                cublasProblemCache = "cublasCreate failed: " + e.getMessage();
            }
        }
        return cublasProblemCache;
    }

    static String version(int driver) {
        return driver <= 0 ? "unknown" : (driver / 1000) + "." + (driver % 1000) / 10;
    }

    private static String driverMissing(LinkageError e) {
        String problem = libraryProblem(e, "libcuda.so.1");
        return problem.contains("libcuda.so.1 not found") ? "no NVIDIA driver (libcuda.so.1 not found)"
                : "the CUDA driver library cannot be loaded: " + problem;
    }

    /**
     * One line from JCuda's long, multi-line loading error: the missing shared object when there is one. JCuda's
     * message lists every place it tried; the line that names a missing {@code .so} is the useful part.
     */
    static String libraryProblem(Throwable e, String expected) {
        StringBuilder all = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            all.append(t.getMessage()).append('\n');
        }
        String text = all.toString();
        for (String line : text.split("\n")) {
            int at = line.indexOf("failed to map segment from shared object");
            if (at > 0) {
                // "...UnsatisfiedLinkError: /dir/libJCudaDriver-...so: /dir/libJCudaDriver-...so: failed to map ..."
                int start = line.indexOf('/');
                int end = start < 0 ? -1 : line.indexOf(": ", start);
                String file = start >= 0 && end > start ? line.substring(start, end) : "a JCuda library";
                return "cannot load " + file + ": its file system does not allow loading code (mounted noexec?); set "
                        + NativeLibraries.DIR_ENV + " to a directory on another";
            }
        }
        if (text.contains(expected + ": cannot open shared object file")) {
            return expected + " not found";
        }
        for (String line : text.split("\n")) {
            int at = line.indexOf("cannot open shared object file");
            if (at > 0) {
                // "...: /tmp/libJCudaDriver-...so: libcuda.so.1: cannot open ..." -> the name just before the phrase
                String before = line.substring(0, at).trim();
                if (before.endsWith(":")) {
                    before = before.substring(0, before.length() - 1);
                }
                String lib = before.substring(Math.max(before.lastIndexOf(' '), before.lastIndexOf('/')) + 1);
                return (lib.isEmpty() ? "a library" : lib) + " not found";
            }
        }
        String first = text.lines().filter(l -> !l.isBlank()).findFirst().orElse(e.getClass().getSimpleName());
        return first.trim();
    }
}
