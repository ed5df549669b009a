package org.rnn4j.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Ctrl-C (SIGINT) handling through the JDK's {@code sun.misc.Signal} (module {@code jdk.unsupported}), reached by
 * reflection so that compiling and documenting rnn4j needs no internal API. Where signals cannot be handled, nothing
 * is installed and Ctrl-C ends the JVM as usual.
 */
final class InterruptSignal {

    private InterruptSignal() {
    }

    /**
     * Installs {@code onInterrupt} as the SIGINT handler.
     *
     * @return the previous handler, for {@link #restore}, or {@code null} when none could be installed
     */
    static Object install(Runnable onInterrupt) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object proxy = Proxy.newProxyInstance(handler.getClassLoader(), new Class<?>[] {handler}, (p, m, args) -> {
                switch (m.getName()) {
                    case "handle" -> onInterrupt.run();
                    case "hashCode" -> {
                        return System.identityHashCode(p);
                    }
                    case "equals" -> {
                        return p == args[0];
                    }
                    case "toString" -> {
                        return "rnn4j interrupt handler";
                    }
                    default -> { }
                }
                return null;
            });
            return handle(signal, handler, proxy);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // no SIGINT handling here
        }
    }

    /** Puts back the handler {@link #install} replaced; does nothing for {@code null}. */
    static void restore(Object previous) {
        if (previous == null) {
            return;
        }
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            handle(signal, handler, previous);
        } catch (ReflectiveOperationException | RuntimeException ignored) {
            // nothing to restore
        }
    }

    private static Object handle(Class<?> signal, Class<?> handler, Object h) throws ReflectiveOperationException {
        Object sigint = signal.getConstructor(String.class).newInstance("INT");
        Method handle = signal.getMethod("handle", signal, handler);
        try {
            return handle.invoke(null, sigint, h);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // IllegalArgumentException: SIGINT is not available (e.g. ignored by the parent)
            }
            throw e;
        }
    }
}
