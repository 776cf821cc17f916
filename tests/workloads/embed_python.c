/* An application that embeds CPython through the shared libpython (the way
 * uwsgi, Blender or a C++ service do): the interpreter's thread-locals then
 * live in libpython's own TLS block, reached through glibc's DTV, not at a
 * fixed offset from the thread pointer. Usage: embed_python SCRIPT ARGS... */
#include <Python.h>
#include <stdio.h>
#include <wchar.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...]\n", argv[0]);
    return 2;
  }
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  /* Parsed like `python SCRIPT ARGS...`: sys.argv = [SCRIPT, ARGS...] */
  PyStatus status = PyConfig_SetBytesArgv(&config, argc, argv);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) Py_ExitStatusException(status);
  FILE *script = fopen(argv[1], "r");
  if (script == NULL) {
    perror(argv[1]);
    return 1;
  }
  int failed = PyRun_SimpleFileEx(script, argv[1], 1);
  return Py_FinalizeEx() < 0 || failed ? 1 : 0;
}
