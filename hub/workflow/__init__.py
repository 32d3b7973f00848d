"""The one-window workflow (一网通办): application kinds, their steps and effects, and delivering the effects.

It sits above supervision (it runs the precheck and respects freezes) and below the resolvers.
"""
