#ifndef RAPPORT_CZLIB_SHIM_H
#define RAPPORT_CZLIB_SHIM_H
#include <zlib.h>
#endif
